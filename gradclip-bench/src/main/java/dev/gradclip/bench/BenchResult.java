package dev.gradclip.bench;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * One measured row, as written to the JSON: {@code gbps} is bytes moved per second, in units of
 * 10^9 bytes, from the best measurement iteration (the STREAM convention, robust on a shared
 * machine); {@code fraction_of_bandwidth} divides it by the streaming read bandwidth of the same
 * run.
 *
 * @param name                the benchmark
 * @param floats              elements per call
 * @param tensors             tensors per call
 * @param kernel              {@code simd}, {@code scalar}, or the backend
 * @param gbps                GB/s of the best iteration
 * @param fractionOfBandwidth {@code gbps / bandwidth_gbps}
 * @param bestMillis          milliseconds per call in the best iteration
 * @param meanMillis          milliseconds per call over all measurement iterations
 */
@JsonPropertyOrder({"name", "floats", "tensors", "kernel", "gbps", "fraction_of_bandwidth"})
public record BenchResult(
        @JsonProperty("name") String name,
        @JsonProperty("floats") long floats,
        @JsonProperty("tensors") int tensors,
        @JsonProperty("kernel") String kernel,
        @JsonProperty("gbps") double gbps,
        @JsonProperty("fraction_of_bandwidth") double fractionOfBandwidth,
        @JsonIgnore double bestMillis,
        @JsonIgnore double meanMillis) {
}
