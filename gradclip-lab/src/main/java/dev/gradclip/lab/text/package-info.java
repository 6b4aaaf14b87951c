/**
 * Text for a character language model ({@link dev.gradclip.lab.text.TextCorpus}: Debian's fortunes
 * or a UTF-8 file, as ids over a small vocabulary) and the LSTM model ({@link dev.gradclip.lab.text.CharLm}).
 */
package dev.gradclip.lab.text;
