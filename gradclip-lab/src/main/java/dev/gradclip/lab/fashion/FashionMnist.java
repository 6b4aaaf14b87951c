package dev.gradclip.lab.fashion;

import dev.gradclip.lab.DatasetException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Fashion-MNIST (Xiao et al. 2017, arXiv:1708.07747): 28×28 grey images of clothes in 10 classes,
 * read from the four IDX files of Debian's {@code dataset-fashion-mnist} (or a folder holding the
 * same files, plain or gzip-compressed) and checked: 28×28 images, as many labels as images, every
 * label one of the 10 classes.
 */
public final class FashionMnist {

    /** Where Debian's package installs the data. */
    public static final Path DEFAULT_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    /** The pixels of one image, 28×28. */
    public static final int PIXELS = 28 * 28;
    /** The number of classes. */
    public static final int CLASSES = 10;

    private static final Map<Path, FashionMnist> CACHE = new ConcurrentHashMap<>();

    private final Split train;
    private final Split test;

    private FashionMnist(Split train, Split test) {
        this.train = train;
        this.test = test;
    }

    /**
     * The images and labels of one split, pixels and labels as unsigned bytes.
     *
     * @param images the pixels, image after image, row-major
     * @param labels the class of each image, 0 to 9
     * @param count  the number of images
     */
    public record Split(byte[] images, byte[] labels, int count) {

        /**
         * Writes one image's pixels, scaled to [0, 1], into a row of a batch.
         *
         * @param image the image's index in this split
         * @param x     the batch, {@link #PIXELS} floats a row
         * @param row   the row to write
         */
        public void fill(int image, float[] x, int row) {
            int from = image * PIXELS;
            for (int p = 0; p < PIXELS; p++) {
                x[row * PIXELS + p] = (images[from + p] & 0xff) / 255f;
            }
        }

        /**
         * @param image the image's index in this split
         * @return its class, 0 to 9
         */
        public int label(int image) {
            return labels[image] & 0xff;
        }
    }

    /** @return whether the training files of Debian's package are installed */
    public static boolean installed() {
        return Files.isReadable(DEFAULT_DIR.resolve("train-images-idx3-ubyte.gz"))
                && Files.isReadable(DEFAULT_DIR.resolve("train-labels-idx1-ubyte.gz"));
    }

    /**
     * Loads (once per folder, then from a cache) and checks the four IDX files.
     *
     * @param dir the folder holding {@code train-images-idx3-ubyte[.gz]}, {@code train-labels-idx1-ubyte[.gz]},
     *            {@code t10k-images-idx3-ubyte[.gz]} and {@code t10k-labels-idx1-ubyte[.gz]}
     * @return the data
     * @throws DatasetException if a file is missing, corrupt or inconsistent
     */
    public static FashionMnist load(Path dir) {
        return CACHE.computeIfAbsent(dir.toAbsolutePath().normalize(), d -> new FashionMnist(
                split(d, "train", d.equals(DEFAULT_DIR)), split(d, "t10k", d.equals(DEFAULT_DIR))));
    }

    /** @return the 60,000 training images */
    public Split train() {
        return train;
    }

    /** @return the 10,000 test images */
    public Split test() {
        return test;
    }

    private static Path file(Path dir, String base, boolean defaultDir) {
        Path gz = dir.resolve(base + ".gz");
        if (Files.isRegularFile(gz)) {
            return gz;
        }
        Path plain = dir.resolve(base);
        if (Files.isRegularFile(plain)) {
            return plain;
        }
        throw new DatasetException("Fashion-MNIST not found: " + dir + " has no " + base + "[.gz]; "
                + (defaultDir ? "install it with 'sudo apt-get install dataset-fashion-mnist'"
                        : "check --data, or install Debian's copy with 'sudo apt-get install dataset-fashion-mnist'"));
    }

    private static Split split(Path dir, String prefix, boolean defaultDir) {
        Path imagesFile = file(dir, prefix + "-images-idx3-ubyte", defaultDir);
        Path labelsFile = file(dir, prefix + "-labels-idx1-ubyte", defaultDir);
        IdxFile images = IdxFile.read(imagesFile, IdxFile.IMAGES_MAGIC);
        IdxFile labels = IdxFile.read(labelsFile, IdxFile.LABELS_MAGIC);
        if (images.dims()[1] != 28 || images.dims()[2] != 28) {
            throw new DatasetException(imagesFile + " holds " + images.dims()[1] + "x" + images.dims()[2]
                    + " images; Fashion-MNIST images are 28x28");
        }
        if (images.dims()[0] != labels.dims()[0]) {
            throw new DatasetException(imagesFile + " holds " + images.dims()[0] + " images but " + labelsFile + " "
                    + labels.dims()[0] + " labels");
        }
        for (int i = 0; i < labels.data().length; i++) {
            if ((labels.data()[i] & 0xff) >= CLASSES) {
                throw new DatasetException(labelsFile + ": label " + i + " is " + (labels.data()[i] & 0xff)
                        + ", outside the 10 classes");
            }
        }
        return new Split(images.data(), labels.data(), images.dims()[0]);
    }
}
