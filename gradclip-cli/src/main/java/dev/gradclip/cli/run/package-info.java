/**
 * Running a training plan and writing its files: {@code metrics.jsonl} (one JSON object per step,
 * non-finite numbers as {@code null}), {@code summary.json}, always through a temporary name and a
 * rename so that nothing is ever half-written; live progress on the terminal.
 */
package dev.gradclip.cli.run;
