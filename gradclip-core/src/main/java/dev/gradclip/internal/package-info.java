/**
 * gradclip's implementation: kernels, norms, state encoding. Not API: public only so that gradclip's
 * own modules can share it; left out of the Javadoc, and any class here may change or go in any
 * release. No public class or method outside this package takes or returns a type from it.
 */
package dev.gradclip.internal;
