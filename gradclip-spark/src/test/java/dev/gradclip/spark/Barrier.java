package dev.gradclip.spark;

import dev.gradclip.NormExchange;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import scala.Function1;
import scala.collection.Iterator;
import scala.jdk.javaapi.CollectionConverters;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

/** Runs one barrier stage of {@code tasks} tasks from Java, each given its partition and exchange. */
final class Barrier {

    /** What each barrier task does. */
    @FunctionalInterface
    interface Body<T> extends Serializable {
        T run(int partition, NormExchange exchange) throws Exception;
    }

    private Barrier() {
    }

    /** @return each task's result, by partition */
    @SuppressWarnings("unchecked")
    static <T> List<T> run(JavaSparkContext context, int tasks, Body<T> body) {
        List<Integer> partitions = new ArrayList<>();
        for (int p = 0; p < tasks; p++) {
            partitions.add(p);
        }
        ClassTag<Object> tag = ClassTag$.MODULE$.AnyRef();
        Function1<Iterator<Integer>, Iterator<Object>> f =
                (Function1<Iterator<Integer>, Iterator<Object>> & Serializable) it -> {
                    int p = BarrierTaskContext.get().partitionId();
                    Object out;
                    try {
                        out = body.run(p, BarrierNormExchange.current());
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                    return CollectionConverters.asScala(List.of(out).iterator());
                };
        List<Object> results = context.parallelize(partitions, tasks).rdd().barrier().mapPartitions(f, false, tag)
                .toJavaRDD().collect();
        return (List<T>) results;
    }
}
