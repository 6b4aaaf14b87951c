/**
 * Running a training plan ({@link dev.gradclip.cli.run.RunLoop}, named apart from DJL's
 * {@code Trainer}) and writing its files: {@code metrics.jsonl} (one JSON object per step,
 * non-finite numbers as {@code null}), {@code summary.json}, always through a temporary name and a
 * rename so that nothing is ever half-written; live progress on the terminal. A run with
 * checkpoints ({@link dev.gradclip.cli.run.RunControl}) writes {@code metrics.jsonl} in place instead,
 * made durable at every checkpoint and cut back to it on resume, and can inject faults.
 */
package dev.gradclip.cli.run;
