package dev.gradclip.cli.task;

/** Opens {@link TextCorpus}'s package-private check to tests in other packages. */
public final class TextCorpusAccess {

    private TextCorpusAccess() {
    }

    /**
     * @param bytes a file's content
     * @return {@link TextCorpus#firstBadByte}
     */
    public static long firstBadByte(byte[] bytes) {
        return TextCorpus.firstBadByte(bytes);
    }
}
