/**
 * Fashion-MNIST (arXiv:1708.07747): its IDX files read and checked ({@link dev.gradclip.lab.fashion.IdxFile},
 * {@link dev.gradclip.lab.fashion.FashionMnist}) and the plain MLP that classifies them
 * ({@link dev.gradclip.lab.fashion.Mlp}).
 */
package dev.gradclip.lab.fashion;
