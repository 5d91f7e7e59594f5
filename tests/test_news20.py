"""bigdl.dataset.news20 on a generated news20-format directory and GloVe file, and the text
CNN example on it. Nothing here uses the network."""
import sys

import pytest

from bigdl.dataset import news20

from conftest import LECTURE_DIR, example_accuracy

sys.path.insert(0, str(LECTURE_DIR))
from _news20_files import GROUPS, write_news20  # noqa: E402


def test_get_news20_and_glove_read_back_what_was_written(tmp_path):
    write_news20(str(tmp_path), posts_per_group=3, dim=4)
    (tmp_path / "20news-18828" / "README").write_text("not a newsgroup")  # a file entry still takes a label
    (tmp_path / "20news-18828" / GROUPS[1] / "notes.txt").write_text("not a post")  # only numbered files count
    texts = news20.get_news20(str(tmp_path))
    assert len(texts) == 4 * 3 and news20.CLASS_NUM == 20
    by_label = {}
    for text, label in texts:
        by_label.setdefault(label, []).append(text)
    # Sorted entries: README first (label 1), then the groups in name order.
    assert sorted(by_label) == [2, 3, 4, 5]
    first = open(tmp_path / "20news-18828" / GROUPS[0] / "50000", encoding="latin-1").read()
    assert by_label[2][0] == first
    w2v = news20.get_glove_w2v(str(tmp_path), dim=4)
    line = open(tmp_path / "glove.6B" / "glove.6B.4d.txt").readline().split()
    assert w2v[line[0]] == [float(v) for v in line[1:]] and all(len(v) == 4 for v in w2v.values())


def test_missing_data_that_cannot_be_downloaded_says_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setattr(news20, "NEWS20_URL", (tmp_path / "nowhere.tar.gz").as_uri())
    with pytest.raises(OSError) as e:
        news20.get_news20(str(tmp_path / "d"))
    assert str(tmp_path / "d" / "20news-18828.tar.gz") in str(e.value)
    write_news20(str(tmp_path / "g"), posts_per_group=1, dim=4)
    with pytest.raises(OSError) as e:
        news20.get_glove_w2v(str(tmp_path / "g"), dim=100)
    assert "glove.6B.100d.txt" in str(e.value)


def test_text_cnn_example_learns_the_generated_newsgroups(tmp_path):
    acc, p = example_accuracy("textclassifier_news20.py", [tmp_path / "news20"], 48)
    assert acc >= 0.8, p.stdout[-2000:]
    # Its summaries, as TensorBoard reads them: 20 epochs of 6 iterations (192 posts, batch 32).
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    logs = tmp_path / "news20" / "logs" / "textclassifier"
    train = EventAccumulator(str(logs / "train"), size_guidance={"scalars": 0, "histograms": 0})
    train.Reload()
    assert [e.step for e in train.Scalars("Loss")] == list(range(1, 121))
    assert sorted({e.step for t in train.Tags()["histograms"] for e in train.Histograms(t)}) == [50, 100]
    val = EventAccumulator(str(logs / "validation"))
    val.Reload()
    top1 = val.Scalars("Top1Accuracy")
    assert [e.step for e in top1] == list(range(6, 121, 6)) and top1[-1].value == pytest.approx(acc)
