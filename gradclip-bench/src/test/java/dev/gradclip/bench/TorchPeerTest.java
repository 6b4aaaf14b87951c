package dev.gradclip.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PyTorch peer's protocol and the bench's torch section, against a fake peer in this JVM: no
 * test needs Python or torch.
 */
class TorchPeerTest {

    /**
     * A peer that answers as torch_peer.py does, on a thread: norms of 10, times of 2 ms (1 ms for
     * value clipping, 3 ms for AGC, whose check value is λ = 0.01), and an error for anything
     * else.
     */
    static TorchPeer fake(String firstLine) throws IOException {
        PipedOutputStream toPeer = new PipedOutputStream();
        PipedInputStream peerIn = new PipedInputStream(toPeer, 1 << 16);
        PipedOutputStream peerOut = new PipedOutputStream();
        PipedInputStream fromPeer = new PipedInputStream(peerOut, 1 << 16);
        Thread t = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(peerIn, StandardCharsets.UTF_8));
                    PrintWriter out = new PrintWriter(peerOut, true, StandardCharsets.UTF_8)) {
                out.println(firstLine);
                String line;
                while ((line = in.readLine()) != null) {
                    String[] f = line.split(" ");
                    switch (f[0]) {
                        case "quit" -> {
                            out.println("bye");
                            return;
                        }
                        case "threads" -> out.println("ok " + f[1]);
                        case "setup" -> out.println("ok 10.0");
                        case "round" -> out.println(f[1].equals("norm") ? "time 2000000 10.0000001"
                                : f[1].equals("value") ? "time 1000000 0.5"
                                : f[1].equals("agc") ? "time 3000000 0.01" : "error ValueError: unknown op " + f[1]);
                        default -> out.println("error ValueError: unknown request " + f[0]);
                    }
                }
            } catch (IOException e) {
                // the test ended
            }
        });
        t.setDaemon(true);
        t.start();
        return new TorchPeer(fromPeer, toPeer, null);
    }

    @Test
    void protocolRepliesAreParsed() throws IOException {
        try (TorchPeer peer = fake("ready 9.9.9+cpu 2")) {
            assertThat(peer.version()).isEqualTo("9.9.9+cpu");
            assertThat(peer.threads(1)).isEqualTo(1);
            assertThat(peer.setup(8192, 2)).isEqualTo(10.0);
            assertThat(peer.round("norm", 5.0)).containsExactly(2_000_000, 10.0000001);
            assertThat(peer.round("value", 0.5)).containsExactly(1_000_000, 0.5);
            assertThatThrownBy(() -> peer.round("nope", 1)).isInstanceOf(IOException.class)
                    .hasMessageContaining("ValueError: unknown op nope");
        }
    }

    @Test
    void aPeerWithoutTorchIsAnError() {
        assertThatThrownBy(() -> fake("error cannot import torch: No module named 'torch'"))
                .isInstanceOf(IOException.class).hasMessageContaining("No module named 'torch'");
    }

    @Test
    void pairedRoundsGiveOneRowPerOpAndThreadCount() throws IOException {
        try (TorchPeer peer = fake("ready 9.9.9+cpu 2")) {
            List<TorchPairedMain.Row> rows = TorchPairedMain.measure(8 * 1024, 2, 3, new int[] {1, 2}, peer);
            assertThat(rows).extracting(TorchPairedMain.Row::op).containsExactly("clip_grad_norm",
                    "clip_grad_norm_under", "clip_grad_value", "clip_grad_value_1pass", "agc", "clip_grad_norm",
                    "clip_grad_norm_under", "clip_grad_value", "clip_grad_value_1pass", "agc");
            assertThat(rows).extracting(TorchPairedMain.Row::torchThreads).containsExactly(1, 1, 1, 1, 1, 2, 2, 2, 2, 2);
            for (TorchPairedMain.Row r : rows) {
                assertThat(r.torch()).containsExactly(r.op().startsWith("clip_grad_value") ? new double[] {1, 1}
                        : r.op().equals("agc") ? new double[] {3, 3} : new double[] {2, 2});
                assertThat(r.gradclip()[0]).isPositive().isLessThanOrEqualTo(r.gradclip()[1]);
                assertThat(r.ratio()).isEqualTo(r.torch()[1] / r.gradclip()[1]);
            }
        }
    }

    @Test
    void forkOutputIsParsed() {
        TorchPairedMain.Parsed p = TorchPairedMain.parse("torch 2.13.0+cpu\nclip_grad_norm 2 1.0 1.5 3.0 4.5\n");
        assertThat(p.version()).isEqualTo("2.13.0+cpu");
        assertThat(p.rows()).hasSize(1);
        assertThat(p.rows().get(0).ratio()).isEqualTo(3.0);
        assertThatThrownBy(() -> TorchPairedMain.parse("Traceback")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> TorchPairedMain.parse("torch 1\nclip_grad_norm 2 1.0"))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void noPythonAndNoWheelSaysWhy(@TempDir Path dir) {
        TorchPeer.Location l = TorchPeer.locate(Map.of(), dir.resolve("no-python3").toString(), dir.resolve("venv"),
                dir, null);
        assertThat(l.found()).isFalse();
        assertThat(l.why()).contains("cannot import torch").contains("no torch-*+cpu*.whl in " + dir);
        TorchPeer.Location given = TorchPeer.locate(Map.of(TorchPeer.PYTHON_ENV, dir.resolve("py").toString()),
                "python3", dir.resolve("venv"), dir, null);
        assertThat(given.found()).isFalse();
        assertThat(given.why()).startsWith(TorchPeer.PYTHON_ENV + "=").contains("cannot run torch");
    }

    @Test
    void findsTheCpuWheel(@TempDir Path dir) throws IOException {
        assertThat(TorchPeer.findWheel(dir.resolve("absent"))).isNull();
        Files.createFile(dir.resolve("torch-2.13.0-cp311-cp311-manylinux_2_28_x86_64.whl"));
        assertThat(TorchPeer.findWheel(dir)).isNull();
        Path cpu = Files.createFile(dir.resolve("torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl"));
        assertThat(TorchPeer.findWheel(dir)).isEqualTo(cpu);
    }

    @Test
    void theScriptShipsWithTheBench() throws IOException {
        assertThat(Files.readString(TorchPeer.script())).contains("clip_grad_norm_").contains("foreach=True")
                .contains("perf_counter_ns");
    }

    /** A locator that finds nothing, or the fake peer. */
    private static BenchMain.TorchPeers peers(boolean found) {
        return new BenchMain.TorchPeers() {
            @Override
            public TorchPeer.Location locate(PrintWriter progress) {
                return found ? new TorchPeer.Location("fake-python", "a fake") : new TorchPeer.Location(null,
                        "python3 cannot import torch (No module named 'torch')");
            }

            @Override
            public TorchPeer start(String python) throws IOException {
                return fake("ready 9.9.9+cpu 2");
            }
        };
    }

    @Test
    void noPeerIsOnePlainLineAndNoFailure() throws IOException {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = BenchMain.run(new String[] {"--smoke", "--only", "pytorch", "--json"}, new PrintWriter(out),
                new PrintWriter(err), peers(false));
        assertThat(code).as(err.toString()).isZero();
        assertThat(err.toString().lines().filter(l -> l.contains("PyTorch peer"))).containsExactly(
                "[pytorch] no PyTorch peer could be run: python3 cannot import torch (No module named 'torch'); the"
                        + " torch rows are skipped");
        JsonNode doc = new ObjectMapper().readTree(out.toString());
        assertThat(doc.get("torch_paired").size()).isZero();
        assertThat(doc.get("torch_peer").get("found").asBoolean()).isFalse();
    }

    @Test
    void benchPrintsTorchRowsFromTheFakePeer() throws IOException {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = BenchMain.run(new String[] {"--smoke", "--only", "pytorch", "--json"}, new PrintWriter(out),
                new PrintWriter(err), peers(true));
        assertThat(code).as(err.toString()).isZero();
        JsonNode rows = new ObjectMapper().readTree(out.toString()).get("torch_paired");
        int threadCounts = Runtime.getRuntime().availableProcessors() > 1 ? 2 : 1;
        assertThat(rows.size()).isEqualTo(2 * 5 * threadCounts); // 1 and 200 tensors, five ops
        for (JsonNode r : rows) {
            assertThat(r.get("gradclip_threads").asInt()).isEqualTo(r.get("torch_threads").asInt());
            assertThat(r.get("torch_median_ms").asDouble()).isIn(1.0, 2.0, 3.0);
            assertThat(r.get("ratio").asDouble()).isPositive();
        }
        assertThat(err.toString()).contains("PyTorch 9.9.9+cpu, paired");
    }
}
