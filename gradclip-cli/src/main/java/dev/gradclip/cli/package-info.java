/**
 * The {@code gradclip} command (picocli): {@code demo}, {@code train}, {@code compare},
 * {@code suggest} and {@code report}, one class per subcommand, with the exit codes in
 * {@link dev.gradclip.cli.ExitCode} and a factory, {@link dev.gradclip.cli.GradclipCli}, that builds
 * the command line with the writers it prints to.
 */
package dev.gradclip.cli;
