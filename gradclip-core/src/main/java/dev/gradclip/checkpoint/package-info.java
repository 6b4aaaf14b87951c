/**
 * Checkpoints that survive crashes: {@link dev.gradclip.checkpoint.Checkpoint} holds the opaque
 * sections of one saved moment of a run (parameters, optimizer and clipper state, random state,
 * metrics position, options); {@link dev.gradclip.checkpoint.CheckpointStore} writes them
 * atomically and durably, keeps the last two, and on loading detects a damaged file (checksum,
 * sizes) and falls back to the previous one.
 */
package dev.gradclip.checkpoint;
