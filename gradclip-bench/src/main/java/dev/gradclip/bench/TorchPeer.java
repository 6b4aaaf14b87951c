package dev.gradclip.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The PyTorch peer of the bench command: a Python child process running {@code torch_peer.py} (a
 * resource beside this class), which times {@code torch.nn.utils.clip_grad_norm_} and
 * {@code clip_grad_value_} ({@code foreach=True}, the multi-tensor kernels) on request, one line per
 * request and one per reply. {@link #locate} finds a Python that can import torch, or says plainly why
 * there is none.
 */
final class TorchPeer implements AutoCloseable {

    /** The environment variable naming the Python to run the peer with. */
    static final String PYTHON_ENV = "GRADCLIP_TORCH_PYTHON";
    /** The environment variable naming a torch wheel to install into {@code target/torch-venv}. */
    static final String WHEEL_ENV = "GRADCLIP_TORCH_WHEEL";
    /** Where the machine image keeps its wheels. */
    static final Path WHEEL_DIR = Path.of("/opt/wheels");

    private final BufferedReader in;
    private final Writer out;
    private final Process process;
    private final String version;

    /**
     * Connects to a peer that has just started; reads its first line.
     *
     * @param fromPeer the peer's standard output
     * @param toPeer   the peer's standard input
     * @param process  the peer's process, or {@code null} for one that is not a process (tests)
     * @throws IOException if the peer does not say {@code ready}
     */
    TorchPeer(InputStream fromPeer, OutputStream toPeer, Process process) throws IOException {
        this.in = new BufferedReader(new InputStreamReader(fromPeer, StandardCharsets.UTF_8));
        this.out = new OutputStreamWriter(toPeer, StandardCharsets.UTF_8);
        this.process = process;
        String[] f = reply("ready", 3, "start");
        this.version = f[1];
    }

    /**
     * Starts {@code python torch_peer.py}.
     *
     * @param python the Python executable
     * @return the connected peer
     * @throws IOException if it cannot be started or does not get ready
     */
    static TorchPeer start(String python) throws IOException {
        Path script = script();
        ProcessBuilder builder = new ProcessBuilder(python, "-u", script.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT);
        builder.environment().put(BenchMain.HUGE_PAGES_ENV, "1"); // as the forked JVMs' heaps
        Process p = builder.start();
        try {
            return new TorchPeer(p.getInputStream(), p.getOutputStream(), p);
        } catch (IOException | RuntimeException e) {
            p.destroyForcibly();
            throw e;
        }
    }

    /** @return the script, copied out of the class path into a temporary file */
    static Path script() throws IOException {
        Path script = Files.createTempFile("gradclip-torch-peer", ".py");
        script.toFile().deleteOnExit();
        try (InputStream s = TorchPeer.class.getResourceAsStream("torch_peer.py")) {
            if (s == null) {
                throw new IOException("torch_peer.py is missing from the class path");
            }
            Files.write(script, s.readAllBytes());
        }
        return script;
    }

    /** @return torch's version, as the peer reported it */
    String version() {
        return version;
    }

    /**
     * @param n torch's intra-op threads
     * @return the threads torch reports afterwards
     * @throws IOException if the peer fails
     */
    int threads(int n) throws IOException {
        return Integer.parseInt(request("threads " + n, "ok", 2)[1]);
    }

    /**
     * @param floats  total floats
     * @param tensors tensors they are split into ({@link Workloads#split})
     * @return the total 2-norm of the peer's gradients
     * @throws IOException if the peer fails
     */
    double setup(int floats, int tensors) throws IOException {
        return Double.parseDouble(request("setup " + floats + " " + tensors, "ok", 2)[1]);
    }

    /**
     * One timed call, after an untimed restore of the gradients.
     *
     * @param op  {@code norm} ({@code clip_grad_norm_} with max norm {@code arg}) or {@code value}
     *            ({@code clip_grad_value_} with clip value {@code arg})
     * @param arg the threshold
     * @return the time in ns and the peer's check value (the total norm, or the largest |g| after)
     * @throws IOException if the peer fails
     */
    double[] round(String op, double arg) throws IOException {
        String[] f = request(String.format(Locale.ROOT, "round %s %s", op, Double.toString(arg)), "time", 3);
        return new double[] {Long.parseLong(f[1]), Double.parseDouble(f[2])};
    }

    private String[] request(String line, String expected, int fields) throws IOException {
        out.write(line + "\n");
        out.flush();
        return reply(expected, fields, line);
    }

    private String[] reply(String expected, int fields, String request) throws IOException {
        String line = in.readLine();
        if (line == null) {
            throw new IOException("the PyTorch peer ended without answering '" + request + "'" + exitCode());
        }
        String[] f = line.trim().split("\\s+");
        if (f[0].equals("error")) {
            throw new IOException("the PyTorch peer answered '" + request + "' with: " + line.trim().substring(5).trim());
        }
        if (!f[0].equals(expected) || f.length != fields) {
            throw new IOException("unexpected answer of the PyTorch peer to '" + request + "': '" + line.trim() + "'");
        }
        return f;
    }

    private String exitCode() {
        if (process == null) {
            return "";
        }
        try {
            return process.waitFor(5, TimeUnit.SECONDS) ? " (exit code " + process.exitValue() + ")" : "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    /** Asks the peer to quit and waits a little for it; then ends it. */
    @Override
    public void close() throws IOException {
        try {
            out.write("quit\n");
            out.flush();
            in.readLine();
        } catch (IOException e) {
            // it may be gone already
        }
        if (process != null) {
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
    }

    /**
     * Where the peer's Python is, or why there is none.
     *
     * @param python the Python that imports torch, or {@code null}
     * @param why    a sentence on why there is none, or on where the Python came from
     */
    record Location(String python, String why) {
        /** @return whether a peer can be run */
        boolean found() {
            return python != null;
        }
    }

    /**
     * Finds a Python that imports torch: {@value #PYTHON_ENV} if set (and nothing else then), else
     * {@code python3} on the path, else {@code venv/bin/python} if it was made before, else a new
     * virtual environment {@code venv} (with the system's site packages, for torch's own
     * dependencies) in which pip installs, offline, the wheel {@value #WHEEL_ENV} names or the first
     * {@code torch-*+cpu*.whl} in {@code wheelDir}.
     *
     * @param env      the environment
     * @param python3  the system Python's command
     * @param venv     the virtual environment's folder
     * @param wheelDir where to look for a wheel
     * @param progress where to say that a virtual environment is being made
     * @return the location
     */
    static Location locate(Map<String, String> env, String python3, Path venv, Path wheelDir, PrintWriter progress) {
        String given = env.get(PYTHON_ENV);
        if (given != null && !given.isBlank()) {
            String problem = importsTorch(given);
            return problem == null ? new Location(given, PYTHON_ENV + "=" + given)
                    : new Location(null, PYTHON_ENV + "=" + given + " cannot run torch: " + problem);
        }
        String system = importsTorch(python3);
        if (system == null) {
            return new Location(python3, python3 + " on the path");
        }
        Path venvPython = venv.resolve("bin").resolve("python");
        if (Files.isExecutable(venvPython) && importsTorch(venvPython.toString()) == null) {
            return new Location(venvPython.toString(), venv + " (made earlier)");
        }
        Path wheel;
        String named = env.get(WHEEL_ENV);
        if (named != null && !named.isBlank()) {
            wheel = Path.of(named);
            if (!Files.isRegularFile(wheel)) {
                return new Location(null, python3 + " cannot import torch (" + system + ") and " + WHEEL_ENV + "="
                        + named + " is not a file");
            }
        } else {
            wheel = findWheel(wheelDir);
            if (wheel == null) {
                return new Location(null, python3 + " cannot import torch (" + system + "), " + PYTHON_ENV
                        + " is not set and there is no torch-*+cpu*.whl in " + wheelDir + " (nor " + WHEEL_ENV + ")");
            }
        }
        if (progress != null) {
            progress.printf(Locale.ROOT, "[pytorch] making a Python with torch in %s from %s (once; about half a"
                    + " minute) ...%n", venv, wheel.getFileName());
            progress.flush();
        }
        String made = run(List.of(python3, "-m", "venv", "--system-site-packages", venv.toString()), 300);
        if (made == null) {
            made = run(List.of(venvPython.toString(), "-m", "pip", "install", "--no-deps", "--no-index",
                    "--disable-pip-version-check", "-q", wheel.toString()), 600);
        }
        if (made != null) {
            return new Location(null, "could not install " + wheel.getFileName() + " into " + venv + ": " + made);
        }
        String problem = importsTorch(venvPython.toString());
        return problem == null ? new Location(venvPython.toString(), venv + " (made from " + wheel.getFileName() + ")")
                : new Location(null, "torch installed into " + venv + " from " + wheel.getFileName()
                        + " cannot be imported: " + problem);
    }

    /** @return the first {@code torch-*+cpu*.whl} in the folder, by name, or {@code null} */
    static Path findWheel(Path dir) {
        if (!Files.isDirectory(dir)) {
            return null;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> {
                String n = p.getFileName().toString();
                return n.startsWith("torch-") && n.contains("+cpu") && n.endsWith(".whl");
            }).sorted().findFirst().orElse(null);
        } catch (IOException e) {
            return null;
        }
    }

    /** @return {@code null} if {@code python} imports torch, else why not, in a few words */
    static String importsTorch(String python) {
        return run(List.of(python, "-c", "import torch"), 120);
    }

    /** @return {@code null} if the command ran and exited 0, else the last line it wrote, or why it did not run */
    private static String run(List<String> command, int seconds) {
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            return command.get(0) + " not found";
        }
        try {
            p.getOutputStream().close();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "timed out after " + seconds + " s";
            }
            if (p.exitValue() == 0) {
                return null;
            }
            List<String> lines = new ArrayList<>(output.lines().toList());
            return lines.isEmpty() ? "exit code " + p.exitValue() : lines.get(lines.size() - 1).strip();
        } catch (IOException e) {
            p.destroyForcibly();
            return e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            return "interrupted";
        }
    }

    /** @return {@code target/torch-venv} beside the bench's jar (or its classes folder) */
    static Path defaultVenv() {
        try {
            Path here = Path.of(TorchPeer.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path target = here.getParent();
            if (target != null) {
                return target.resolve("torch-venv");
            }
        } catch (java.net.URISyntaxException | RuntimeException e) {
            // fall through
        }
        return Path.of("gradclip-bench", "target", "torch-venv");
    }
}
