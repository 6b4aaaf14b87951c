/**
 * The tasks of the command: the seed's quadratic on plain arrays, and on DJL's PyTorch engine the
 * workloads of gradclip-lab (the Pascanu et al. 2013 sequence problems, Fashion-MNIST and a character
 * language model) with what the command adds to them: options and defaults, success criteria,
 * per-layer norms and checkpoint state. A dataset gradclip-lab cannot read becomes a
 * {@link dev.gradclip.cli.UsageException} here.
 */
package dev.gradclip.cli.task;
