/**
 * The workloads of the command: the seed's quadratic on plain arrays, and on DJL's PyTorch engine
 * through gradclip-djl the Pascanu et al. 2013 sequence problems, Fashion-MNIST and a character
 * language model.
 */
package dev.gradclip.cli.task;
