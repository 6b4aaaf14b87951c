/**
 * Runnable examples of the library; see {@link dev.gradclip.examples.QuadraticExample}, the seed
 * example of gradient descent with value clipping on {@code J(x) = x²}.
 */
package dev.gradclip.examples;
