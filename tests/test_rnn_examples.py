"""The recurrent examples: the LSTM over image rows trained on sklearn's digits (28×28, a
fixed 80/20 split) to ≥ 90% test accuracy on every kernel set this CPU runs, and the GRU
text classifier on generated newsgroups."""
from conftest import child_env, example_accuracy
from test_lenet import kernel_sets


def test_lstm_over_image_rows_learns_digits_on_every_kernel_set(tmp_path):
    for name in kernel_sets():
        acc, p = example_accuracy("lstm_mnist.py", [tmp_path / "digits"], 360, env=child_env(BIGDL_KERNELS=name))
        assert "BIGDL_KERNELS=%s" % name not in p.stderr, p.stderr[-2000:]  # the set was not refused
        assert acc >= 0.90, "%s: %s" % (name, p.stdout[-2000:])


def test_gru_text_classifier_learns_the_generated_newsgroups(tmp_path):
    acc, p = example_accuracy("rnn_textclassifier_news20.py", [tmp_path / "news20"], 160)
    assert acc >= 0.85, p.stdout[-2000:]
