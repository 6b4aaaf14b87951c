package dev.gradclip.examples.quickstart;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class QuickstartTest {

    @Test
    void theModelLearnsWithItsFirstGradientsClipped() throws Exception {
        Quickstart.Result r = Quickstart.train(10);
        System.out.println(r);
        assertTrue(r.clippedSteps() > 0, "some steps were clipped: " + r);
        assertTrue(r.mseAfter() < 0.1 && r.mseAfter() < r.mseBefore() / 100, "the model learned: " + r);
    }
}
