package dev.gradclip.cli;

/**
 * The help text listing the clip and optimizer specs, shared by the commands that take them.
 */
final class SpecHelp {

    /** The footer of train, compare and suggest. */
    static final String[] FOOTER = {
        "",
        "Clip SPEC: METHOD[:PARAMS][+spike-guard[:k=K,window=N]][+POLICY]",
        "  none                        measure norms, change nothing",
        "  value:C                     clamp every element to [-C, C]",
        "  norm:C                      per-tensor L2 norm at most C (Keras clipnorm)",
        "  group-norm:C                per-layer L2 norm at most C (DL4J ClipL2PerLayer)",
        "  global-norm:C[,p=P]         global p-norm at most C (Pascanu et al. 2013); p=inf for max norm",
        "  agc:LAMBDA                  unit-wise, relative to the weights (Brock et al. 2021)",
        "  autoclip[:P]                P-th percentile of past norms, default 10 (Seetharaman et al. 2020)",
        "  zclip[:z=Z,alpha=A,max=M]   clip z-score outliers of the norm's EMA, under a cap (Kumar et al. 2025);",
        "                              defaults z=2.5, alpha=0.97, max=1.0 as ZClip's code; max=none: no cap",
        "  adagc                       per-tensor adaptive thresholds (Wang et al. 2025)",
        "  spike-guard[:k=K]           skip a step whose norm exceeds K (10) x the running median",
        "  POLICY for NaN/inf gradients: +throw-nonfinite (default: stop, exit code 3), +skip-nonfinite,",
        "    +zero-nonfinite, +propagate-nonfinite",
        "  Examples: global-norm:1.0   value:0.5+skip-nonfinite   zclip:z=3+spike-guard   autoclip:10",
        "",
        "Optimizer SPEC (PyTorch defaults): sgd:lr=η   momentum:lr=η,beta=0.9   nesterov:lr=η,beta=0.9",
        "  rmsprop:lr=η[,alpha=0.99,eps=1e-8,momentum=0,centered]   adam:lr=η[,beta1=0.9,beta2=0.999]",
        "  adamw:lr=η[,wd=0.01]; any of them with schedule=cosine|step (every=N,gamma=G) and warmup=N.",
        "  Example: momentum:lr=0.01,beta=0.9,schedule=cosine,warmup=100",
    };

    private SpecHelp() {
    }

    /**
     * @return the footer: the specs, then every task with its defaults
     */
    static String[] footer() {
        java.util.List<String> lines = new java.util.ArrayList<>(java.util.List.of(FOOTER));
        lines.add("");
        lines.add("Tasks (default steps, clip, optimizer):");
        for (String name : dev.gradclip.cli.task.Tasks.names()) {
            dev.gradclip.cli.task.Task t = dev.gradclip.cli.task.Tasks.byName(name);
            var d = t.defaults();
            lines.add(String.format(java.util.Locale.ROOT, "  %-15s %s", name, t.description()));
            lines.add(String.format(java.util.Locale.ROOT, "  %-15s %d steps, --clip %s, --optimizer %s", "", d.steps(),
                    d.clip(), d.optimizer()));
        }
        return lines.toArray(new String[0]);
    }
}
