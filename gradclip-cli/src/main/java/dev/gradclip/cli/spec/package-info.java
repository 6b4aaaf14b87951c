/**
 * The clip and optimizer SPECs of the command line, parsed, checked (every error names the spec,
 * the parameter and the value) and turned into gradclip-core clippers and optimizers.
 */
package dev.gradclip.cli.spec;
