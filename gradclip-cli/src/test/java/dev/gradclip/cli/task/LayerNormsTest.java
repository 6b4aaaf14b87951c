package dev.gradclip.cli.task;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class LayerNormsTest {

    @Test
    void namesDjlParametersLikePyTorch() {
        List<String> names = List.of("01RNN_l_0_i2h_WEIGHT", "01RNN_l_0_h2h_WEIGHT", "01RNN_l_0_i2h_BIAS",
                "01RNN_l_0_h2h_BIAS", "01RNN_l_1_h2h_WEIGHT", "03Linear_weight", "03Linear_bias");
        List<String> groups = List.of("01RNN", "01RNN", "01RNN", "01RNN", "01RNN", "03Linear", "03Linear");
        assertThat(LayerNorms.humanNames(names, groups)).containsExactly("rnn.weight_ih", "rnn.weight_hh",
                "rnn.bias_ih", "rnn.bias_hh", "rnn.weight_hh_l1", "output.weight", "output.bias");
    }

    @Test
    void numbersRepeatedBlocksAndKeepsOtherNames() {
        List<String> names = List.of("01Linear_weight", "01Linear_bias", "03Linear_weight", "05Linear_weight",
                "05Linear_bias");
        List<String> groups = List.of("01Linear", "01Linear", "03Linear", "05Linear", "05Linear");
        assertThat(LayerNorms.humanNames(names, groups)).containsExactly("linear1.weight", "linear1.bias",
                "linear2.weight", "output.weight", "output.bias");
        assertThat(LayerNorms.humanNames(List.of("x"), List.of("x"))).containsExactly("x");
        assertThat(LayerNorms.humanNames(List.of("01LSTM_l_0_i2h_WEIGHT", "03Linear_weight"),
                List.of("01LSTM", "03Linear"))).containsExactly("lstm.weight_ih", "output.weight");
    }
}
