/**
 * Executor side of gradclip-spark, not API: a model replica per run and JVM, and what a partition
 * sends back.
 */
package dev.gradclip.spark.internal;
