"""Concept extraction (gazetteer, abbreviations, scispacy alternative) and the corpus-wide edge rules."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from ckg.etl.concept_edges import EdgeRules, confidence, select
from ckg.etl.concepts import (
    ExtractionConfig,
    ExtractorUnavailable,
    Gazetteer,
    GazetteerExtractor,
    ScispacyExtractor,
    extract_many,
)
from ckg.etl.vocab import DEMO_VOCABULARY, Vocabulary, load
from ckg.etl.vocab.merge import merge
from ckg.etl.vocab.records import VocabTerm


@pytest.fixture(scope="module")
def demo_extractor():
    return GazetteerExtractor(Gazetteer.build(load(DEMO_VOCABULARY)))


def found(extractor, title="", abstract="", body=""):
    return extractor.extract(title, abstract, body).mentions


def test_case_plurals_hyphens_and_inverted_mesh_names(demo_extractor):
    m = found(demo_extractor, "PNEUMONIA in adults", "Chronic obstructive pulmonary diseases and interleukin 6.",
              "Angiotensin converting enzyme-2 binds SARS CoV 2 spike proteins.")
    assert m == {"mesh-D011014": (1, 0, 0),        # PNEUMONIA: an all-capital word is a word
                 "mesh-D029424": (0, 1, 0),        # plural of the uninverted "Pulmonary Disease, Chronic Obstructive"
                 "mesh-D015850": (0, 1, 0),        # "interleukin 6" = "Interleukin-6"
                 "pr-Q9BYF1": (0, 0, 1),           # hyphen = space
                 "ncbitaxon-2697049": (0, 0, 1),
                 "mesh-D064370": (0, 0, 1)}        # "spike proteins" = entry term "spike protein"


def test_longest_match_wins(demo_extractor):
    # "reverse transcription polymerase chain reaction" contains "polymerase chain reaction"
    assert found(demo_extractor, body="reverse transcription polymerase chain reaction") == {"mesh-D020133": (0, 0, 1)}
    assert found(demo_extractor, body="polymerase chain reaction") == {"mesh-D016133": (0, 0, 1)}


def test_abbreviations_defined_in_a_paper_resolve_later_mentions(demo_extractor):
    m = found(demo_extractor, "", "Patients developed acute respiratory distress syndrome (ARDS).",
              "ARDS was severe. Later, ARDS resolved.")
    assert m == {"mesh-D012128": (0, 1, 2)}  # the definition once, two later mentions; "(ARDS)" not counted again


def _vocabulary(*terms: VocabTerm) -> Vocabulary:
    return Vocabulary(merge(terms))


def test_symbols_are_matched_with_their_case_and_abbreviations_can_unmean_them():
    vocab = _vocabulary(
        VocabTerm("DOID:9952", "acute lymphoblastic leukemia", "DOID", ["ALL"]),
        VocabTerm("DOID:9999", "interferon response factor deficiency", "DOID", ["IFR"]),
        VocabTerm("MESH:D007239", "Infection", "MESH", tree_numbers=["C01.539"]))
    ex = GazetteerExtractor(Gazetteer.build(vocab))
    assert found(ex, body="In all patients ALL relapsed.") == {"doid-9952": (0, 0, 1)}
    assert found(ex, body="The IFR was high.") == {"doid-9999": (0, 0, 1)}
    # here IFR is defined as something that is no concept: its mentions are not the vocabulary's IFR,
    # and not the "infection" inside the definition either
    assert found(ex, body="The infection fatality rate (IFR) was 1%. The IFR fell.") == {"mesh-D007239": (0, 0, 1)}


def _mesh(ident, label, trees, *entry_terms):
    return VocabTerm(f"MESH:{ident}", label, "MESH", list(entry_terms), tree_numbers=[trees],
                     entry_terms=list(entry_terms))


COMMON_WORD_VOCABULARY = (
    _mesh("D005190", "Family", "F01.829.263", "Relatives", "Family Members"),
    _mesh("D012015", "Reference Standards", "E05.978.808", "Standards"),
    _mesh("D032882", "Comprehension", "F02.463.188.357", "Understanding"),
    _mesh("D030681", "Ficus", "B01.875.800.575.912.250.859.937.406.500", "Figs"),
    _mesh("D002685", "Chiroptera", "B01.050.150.900.649.313.500", "Bats"),
    _mesh("D013909", "Thorax", "A01.911", "Chest"),
    _mesh("D018804", "Hantavirus Pulmonary Syndrome", "C01.925.782.417.415", "HARDS"),
    _mesh("D004797", "Enzyme-Linked Immunosorbent Assay", "E05.196.401.143", "ELISA"),
    VocabTerm("NCIT:C17214", "Disease Transmission", "COVOC", ["Transmission"]),  # an OBO exact synonym
)


def test_common_words_that_are_mesh_entry_terms_are_not_matched_alone():
    from ckg.etl.concepts import common_words

    assert {"relative", "standard", "understanding", "bat", "chest", "hard"} <= common_words()
    text = ("Relative to the standard deviation, understanding of hard cases grew. Relatives of the "
            "patients and other family members, reference standards, ELISA, bats and chest pain; transmission.")
    g = Gazetteer.build(_vocabulary(*COMMON_WORD_VOCABULARY))
    assert g.common_entry_terms == 4  # Relatives, Standards, Understanding, HARDS ("hard" as matched)
    assert found(GazetteerExtractor(g), body=text) == {
        "mesh-D005190": (0, 0, 1),       # only "family members"
        "mesh-D012015": (0, 0, 1),       # only "reference standards"
        "mesh-D004797": (0, 0, 1),       # ELISA: no common word
        "mesh-D002685": (0, 0, 1),       # bats: a common word, but it names an organism
        "mesh-D013909": (0, 0, 1),       # chest: a body part
        "ncit-C17214": (0, 0, 1)}        # an OBO exact synonym is not a MeSH entry term
    # the rule can be turned off; then every entry term is matched again
    off = Gazetteer.build(_vocabulary(*COMMON_WORD_VOCABULARY), ExtractionConfig(common_words=0))
    assert off.common_entry_terms == 0 and off.config["common_words"] == 0 and g.config["common_words"] == 10_000
    assert off.fingerprint() != g.fingerprint()
    assert found(GazetteerExtractor(off), body=text) == {
        "mesh-D005190": (0, 0, 3), "mesh-D012015": (0, 0, 2), "mesh-D032882": (0, 0, 1), "mesh-D018804": (0, 0, 1),
        "mesh-D004797": (0, 0, 1), "mesh-D002685": (0, 0, 1), "mesh-D013909": (0, 0, 1), "ncit-C17214": (0, 0, 1)}


def test_a_learned_lexicon_link_keeps_a_common_word_linked():
    from ckg.etl.lexicon import LexiconEntry

    vocab = _vocabulary(*COMMON_WORD_VOCABULARY)
    learned = Vocabulary(vocab.concepts, lexicon=[LexiconEntry("relatives", "link", "D005190", "disease", 3, 1.0)])
    ex = GazetteerExtractor(Gazetteer.build(learned))
    assert found(ex, body="Relatives of the patients.") == {"mesh-D005190": (0, 0, 1)}


def test_figure_references_are_no_figs():
    ex = GazetteerExtractor(Gazetteer.build(_vocabulary(*COMMON_WORD_VOCABULARY)))
    assert found(ex, body="As Fig. 2 shows (Fig 3A; Figs. 4-5; Fig S1; see fig. 6; S2 Fig), the FIG. 7 curve.") == {}
    assert found(ex, body="Dried figs and a fig tree; Ficus.") == {"mesh-D030681": (0, 0, 3)}


SARS_VOCABULARY = (
    _mesh("D045169", "Severe Acute Respiratory Syndrome", "C01.925.782.600.550.200.750"),
    VocabTerm("MESH:D045473", "SARS Virus", "MESH", ["SARS coronavirus"], tree_numbers=["B04.820.504.540.150.113.750"],
              entry_terms=["SARS coronavirus"]),
    VocabTerm("MESH:D000086382", "COVID-19", "MESH", ["SARS-CoV-2 infection"], tree_numbers=["C01.925.782.600.550.200.163"]),
    VocabTerm("NCBITAXON:2697049", "Severe acute respiratory syndrome coronavirus 2", "NCBITAXON", ["SARS-CoV-2"]),
)


def test_an_abbreviation_inside_a_compound_or_a_longer_name_is_not_its_long_form():
    ex = GazetteerExtractor(Gazetteer.build(_vocabulary(*SARS_VOCABULARY)))
    sars, covid, virus, sars2 = "mesh-D045169", "mesh-D000086382", "mesh-D045473", "ncbitaxon-2697049"
    defined = "Severe acute respiratory syndrome (SARS) emerged in 2003. "
    # "SARS" in SARS-CoV-2, SARS-CoV, SARS-like, anti-SARS and inside "SARS coronavirus" is no SARS;
    # the longer matches stay ("SARS-CoV-2 infection" is COVID-19)
    m = found(ex, body=defined + "Cells with SARS-CoV-2 infection were lysed. SARS-CoV and SARS-like viruses; "
                                 "anti-SARS drugs. The SARS coronavirus. SARS- and MERS-CoV. SARS cases fell.")
    assert m == {sars: (0, 0, 2), covid: (0, 0, 1), virus: (0, 0, 1)}  # the definition and "SARS cases"
    assert found(ex, body=defined + "SARS-CoV-2 spread.") == {sars: (0, 0, 1), sars2: (0, 0, 1)}
    spans = ex.mention_spans("", "", defined + "Cells with SARS-CoV-2 infection. SARS returned.")
    text = "\n\n\n\n" + defined + "Cells with SARS-CoV-2 infection. SARS returned."
    assert [(text[a:b], k) for a, b, k in spans] == [
        ("Severe acute respiratory syndrome", sars), ("SARS-CoV-2 infection", covid), ("SARS", sars)]
    # without a definition of "SARS" nothing changes: SARS-CoV-2 is the virus, and no SARS is found in it
    m = found(ex, body="Severe acute respiratory syndrome coronavirus 2 (SARS-CoV-2) spread. SARS-CoV-2 binds. "
                       "SARS-CoV-2 infection.")
    assert set(m) == {sars2, covid} and m[covid] == (0, 0, 1)


def test_stop_list_and_excluded_trees_keep_generic_terms_out(demo_extractor):
    assert found(demo_extractor, body="Humans and patients with disease were studied with methods.") == {}
    g = demo_extractor.gazetteer
    assert g.excluded_concepts == 1  # Patients (M01 only)
    assert ("human",) not in g.phrases and ("patient",) not in g.phrases and ("disease",) not in g.phrases


def test_a_custom_stop_list(tmp_path):
    stop = tmp_path / "stop.txt"
    stop.write_text("# nothing generic here\nfever\n")
    g = Gazetteer.build(load(DEMO_VOCABULARY), ExtractionConfig(stoplist=str(stop)))
    ex = GazetteerExtractor(g)
    assert found(ex, body="Fever and humans.") == {"mesh-D006801": (0, 0, 1)}
    assert g.config["stoplist"] == str(stop)


def test_parallel_extraction_gives_the_same_mentions(demo_extractor, demo_releases):
    from ckg.etl.build import build
    from ckg.etl.annotate import paper_texts
    from ckg.store import catalog_file, open_store

    store_path = demo_releases[0].parent / "texts-store"
    if not store_path.exists():
        build(store_path, [demo_releases[0]], release="t")
    store = open_store(store_path, read_only=True)
    from ckg.etl.catalog import Catalog

    with Catalog(catalog_file(store_path)) as catalog:
        keys = sorted(catalog.keys())
    texts = list(paper_texts(store, keys))
    config = ExtractionConfig()
    single = {k: (f.mentions, f.words) for k, f in extract_many(texts, demo_extractor, config, processes=1)}
    parallel = {k: (f.mentions, f.words) for k, f in extract_many(texts, demo_extractor, config, processes=2, batch=16)}
    assert single == parallel and len(single) == 60
    assert sum(1 for m, _w in single.values() if m) == 60


def test_the_scispacy_extractor_says_how_to_get_its_model(demo_extractor):
    with pytest.raises(ExtractorUnavailable, match="needs the spaCy model 'en_core_sci_sm', which is not installed"):
        ScispacyExtractor(demo_extractor.gazetteer, "en_core_sci_sm")


def test_the_scispacy_extractor_links_ner_entities(demo_extractor, tmp_path):
    """A stand-in NER pipeline (an entity ruler named 'ner', saved to disk) in place of a scispacy model."""
    import spacy

    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler", name="ner")
    ruler.add_patterns([{"label": "ENTITY", "pattern": "acute respiratory distress syndrome"},
                        {"label": "ENTITY", "pattern": [{"LOWER": "fever"}]},
                        {"label": "ENTITY", "pattern": "novel thing"}])
    nlp.to_disk(tmp_path / "fake-ner")
    ex = ScispacyExtractor(demo_extractor.gazetteer, str(tmp_path / "fake-ner"))
    m = found(ex, body="Fever, asthma and acute respiratory distress syndrome and a novel thing.")
    assert m == {"mesh-D005334": (0, 0, 1), "mesh-D012128": (0, 0, 1)}  # asthma is no entity; the novel thing no concept


def test_confidence_formula():
    assert confidence((1, 0, 0), df=1, papers=1) == round(1 - math.exp(-1), 3) == 0.632
    assert confidence((0, 0, 2), df=10, papers=100) == round((1 - math.exp(-1 / 3)) * (0.5 + 0.5 * 0.5), 3) == 0.213
    assert confidence((2, 3, 20), df=1, papers=1000) == 0.999
    assert 0 <= confidence((0, 0, 2), df=999, papers=1000) < confidence((0, 0, 2), df=2, papers=1000) <= 1


def test_edge_rules_evidence_and_document_frequency():
    rules = EdgeRules(min_body_mentions=2, max_df=0.5, df_min_papers=4)
    rows = [("p1", "common", 0, 1, 0), ("p2", "common", 1, 0, 0), ("p3", "common", 0, 0, 5),
            ("p1", "rare", 0, 0, 1), ("p2", "rare", 0, 0, 2), ("p4", "title", 1, 0, 0)]
    sel = select(rows, papers=4, rules=rules)
    assert sel.dropped_by_df == {"common": 3}  # 3 of 4 papers > half
    assert sorted(sel.edges) == [("p2", "rare"), ("p4", "title")]  # one body mention is too little
    assert sel.below_evidence == 1
    assert sel.edges[("p4", "title")] == (confidence((1, 0, 0), df=1, papers=4), 1)
    small = select(rows, papers=3, rules=rules)  # below df_min_papers the rule does not apply
    assert ("p3", "common") in small.edges


def test_specificity_in_tenths_keeps_confidence_steady_as_the_corpus_grows():
    """A 1% larger corpus (every df and N up by 1%) changes the confidence of the concepts whose
    df crosses a tenth only; an edge's value depends on its counts and its concept's state."""
    import random

    from ckg.etl.concept_edges import concept_state, decide

    rng = random.Random(3)
    rules = EdgeRules()
    dfs = [max(1, int(rng.paretovariate(0.8))) for _ in range(2000)]
    states_before = [concept_state(df, 100_000, rules) for df in dfs]
    states_after = [concept_state(round(df * 1.01), 101_000, rules) for df in dfs]
    # edges rewritten: a concept's edges are its df papers
    moved = sum(df for df, a, b in zip(dfs, states_before, states_after) if a != b)
    unrounded = sum(df for df in dfs if round(0.5 + 0.5 * (1 - math.log(df) / math.log(100_000)), 3)
                    != round(0.5 + 0.5 * (1 - math.log(round(df * 1.01)) / math.log(101_000)), 3))
    assert moved < 0.05 * sum(dfs) and unrounded > 3 * moved, (moved, unrounded, sum(dfs))

    rows = [("p1", "a", 1, 0, 0), ("p2", "a", 0, 0, 3), ("p2", "b", 0, 1, 0), ("p3", "b", 0, 0, 1)]
    whole = select(rows, papers=3, rules=rules)
    part = decide([r for r in rows if r[0] == "p2"], {"a": 2, "b": 2}, 3, rules)
    assert part.edges == {e: v for e, v in whole.edges.items() if e[0] == "p2"}


def scispacy_and_ckg_abbreviations(texts):
    """(scispacy's AbbreviationDetector, ckg's AbbreviationFinder) results on the same docs."""
    import warnings

    from scispacy.abbreviation import AbbreviationDetector

    from ckg.etl.concepts import AbbreviationFinder, blank_pipeline, prepare_text

    nlp = blank_pipeline()
    theirs, ours = [], []
    detector, finder = AbbreviationDetector(nlp), AbbreviationFinder(nlp.vocab)
    for text in texts:
        doc = nlp.make_doc(prepare_text(text))
        found = finder(doc)
        ours.append(sorted((lf.start, lf.end, tuple(sorted((s.start, s.end) for s in shorts))) for lf, shorts in found))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            detector(doc)
        grouped: dict = {}
        for short in doc._.abbreviations:
            lf = short._.long_form
            grouped.setdefault((lf.start, lf.end), set()).add((short.start, short.end))
        theirs.append(sorted((s, e, tuple(sorted(v))) for (s, e), v in grouped.items()))
    return theirs, ours


def test_abbreviations_are_found_as_scispacy_finds_them(demo_store):
    from ckg.etl.annotate import paper_texts
    from ckg.etl.catalog import Catalog
    from ckg.store import catalog_file, open_store

    with Catalog(catalog_file(demo_store)) as catalog:
        keys = sorted(catalog.keys())
    texts = ["\n\n".join(t[1:]) for t in paper_texts(open_store(demo_store, read_only=True), keys)]
    theirs, ours = scispacy_and_ckg_abbreviations(texts)
    assert theirs == ours and sum(map(len, ours)) > 50


COORDINATION_VOCABULARY = (
    _mesh("D001943", "Breast Neoplasms", "C04.588.180", "Breast Cancer"),
    _mesh("D010051", "Ovarian Neoplasms", "C04.588.322.455", "Ovarian Cancer"),
    _mesh("D002583", "Uterine Cervical Neoplasms", "C04.588.945.418.948.850", "Cervical Cancer"),
    _mesh("D017180", "Tachycardia, Ventricular", "C14.280.067.845.787"),
    _mesh("D014693", "Ventricular Fibrillation", "C14.280.067.957"),
    _mesh("D013345", "Subarachnoid Hemorrhage", "C10.228.140.300.525.700"),
    _mesh("D002543", "Cerebral Hemorrhage", "C10.228.140.300.525"),
    _mesh("D001940", "Breast", "A01.236"),
    _mesh("D005334", "Fever", "C23.888.119.344"),
    _mesh("D059350", "Chest Pain", "C23.888.592.612.233"),
    _mesh("D058447", "Eye Pain", "C23.888.592.612.330"),
    _mesh("D004487", "Edema", "C23.550.325"),
    _mesh("D007938", "Leukemia", "C04.557.337"),
    _mesh("D009369", "Neoplasms", "C04", "Tumors"),
)


def test_coordinated_names_share_their_head_or_modifier():
    ex = GazetteerExtractor(Gazetteer.build(_vocabulary(*COORDINATION_VOCABULARY)))
    # the word before "and"/"or" takes the head of the match after it ("breast" alone is anatomy: replaced)
    assert found(ex, body="Breast and ovarian cancer.") == {"mesh-D001943": (0, 0, 1), "mesh-D010051": (0, 0, 1)}
    assert found(ex, body="Subarachnoid or cerebral hemorrhage.") == {"mesh-D013345": (0, 0, 1),
                                                                       "mesh-D002543": (0, 0, 1)}
    # the word after takes the modifier of the match before it
    assert found(ex, body="Ventricular tachycardia and fibrillation.") == {"mesh-D017180": (0, 0, 1),
                                                                           "mesh-D014693": (0, 0, 1)}
    # a list with commas, then a conjunction next to the match
    assert found(ex, body="Breast, ovarian, and cervical cancer.") == {
        "mesh-D001943": (0, 0, 1), "mesh-D010051": (0, 0, 1), "mesh-D002583": (0, 0, 1)}
    assert found(ex, body="Breast, subarachnoid and ovarian cancer.") == {  # "subarachnoid cancer" is no name:
        "mesh-D001940": (0, 0, 1), "mesh-D010051": (0, 0, 1)}                 # the list stops there
    # a comma alone is no coordination: "red eyes" does not take the head of "chest pain"
    assert found(ex, body="Fever, red eyes, chest pain.") == {"mesh-D005334": (0, 0, 1), "mesh-D059350": (0, 0, 1)}
    off = GazetteerExtractor(Gazetteer.build(_vocabulary(*COORDINATION_VOCABULARY)))
    off.coordination = False
    assert found(off, body="Breast and ovarian cancer.") == {"mesh-D001940": (0, 0, 1), "mesh-D010051": (0, 0, 1)}


def test_british_spellings_match_american_names():
    from ckg.etl.concepts import american

    assert [american(w) for w in ("haemorrhage", "oedema", "diarrhoea", "tumour", "foetal", "hour", "shoe")] == [
        "hemorrhage", "edema", "diarrhea", "tumor", "fetal", "hour", "shoe"]
    ex = GazetteerExtractor(Gazetteer.build(_vocabulary(*COORDINATION_VOCABULARY)))
    assert found(ex, body="Leukaemia, oedema and tumours.") == {"mesh-D007938": (0, 0, 1), "mesh-D004487": (0, 0, 1),
                                                               "mesh-D009369": (0, 0, 1)}


# -- the piece tokenizer: spaCy's tokens, faster ---------------------------------------------------

def spacy_tokens(doc):
    return [(t.text, t.whitespace_, t.norm_, t.idx) for t in doc]


EDGE_TEXTS = (
    "Acute respiratory distress syndrome (ARDS), e.g. in 10am rounds; SARS CoV 2 (Fig. 1A; 4.5%).\n\nThe end",
    "A novel p.R229G mutation, p.E300X, in the ''ScaleData'' step (p<0.05) [12,13].",
    "double  spaces here", " leading space", "trailing space ", "a \nb", "x\n y", "\n\nno title", "a\xa0b c",
    "cannot don't Jan. vs. i.e. et al. U.S. (e.g., cells). A. B.C. xA. ARDS. mRNA. 2020. 1,000. 0.05%).",
    "", "x", "word\n", "ckgpiecebreak (ckgpiecebreak.) ckgpiecebreaks",
)


def test_piece_tokenizer_gives_spacys_tokens(demo_store):
    """Same tokens, spaces, NORMs and offsets as spaCy's tokenizer, on the demo papers and on
    texts with special cases, odd whitespace and spaCy's multi-token special cases ("p." of
    "p.E300X", "''"), in one tokenizer so that its memory of pieces is used across texts."""
    from ckg.etl.annotate import paper_texts
    from ckg.etl.catalog import Catalog
    from ckg.etl.concepts import blank_pipeline, prepare_text
    from ckg.etl.tokens import PieceTokenizer, table_attrs
    from ckg.store import catalog_file, open_store

    with Catalog(catalog_file(demo_store)) as catalog:
        keys = sorted(catalog.keys())
    texts = ["\n\n".join(t[1:]) for t in paper_texts(open_store(demo_store, read_only=True), keys)]
    spacy_nlp, ours = blank_pipeline(), PieceTokenizer(blank_pipeline())
    for text in [*EDGE_TEXTS, *texts, *EDGE_TEXTS, *texts]:
        text = prepare_text(text)
        doc, words = ours.tokenize(text)
        theirs = spacy_nlp.make_doc(text)
        assert doc.text == text and spacy_tokens(doc) == spacy_tokens(theirs), text[:80]
        assert words == len(re.findall(r"\w+", text))
        table, words = ours.table(text)
        assert table.tolist() == theirs.to_array(table_attrs()).tolist() and words == len(re.findall(r"\w+", text))
    small = PieceTokenizer(blank_pipeline(), max_pieces=50)  # starts afresh when full
    most = 50  # a text alone may hold more
    for text in texts[:5]:
        most = max(most, len(set(text.split(" "))))
        assert spacy_tokens(small(text)) == spacy_tokens(spacy_nlp.make_doc(text))
        assert small.table(text)[0].tolist() == spacy_nlp.make_doc(text).to_array(table_attrs()).tolist()
        assert len(small._ids) <= most


def _phrase_matcher_and_ours(gazetteer):
    from spacy.matcher import PhraseMatcher

    phrase_matcher = GazetteerExtractor(gazetteer, legacy=True).matcher
    assert isinstance(phrase_matcher, PhraseMatcher)
    return phrase_matcher, GazetteerExtractor(gazetteer).matcher


def test_norm_matcher_finds_what_spacys_phrase_matcher_finds(demo_store, monkeypatch):
    """Every match, nested and overlapping ones too, of the demo vocabulary's phrases in the demo
    papers and the edge texts, as spaCy's PhraseMatcher over the same NORMs finds them; and the
    same when every prefix hash collides with others (a multiplier of 1 hashes a phrase as the
    sum of its NORM ids, and of 0 as its last one): a collision costs a comparison, never a match."""
    from ckg.etl import tokens as tokens_module
    from ckg.etl.annotate import paper_texts
    from ckg.etl.catalog import Catalog
    from ckg.etl.concepts import prepare_text
    from ckg.etl.tokens import NormMatcher, Tokens
    from ckg.store import catalog_file, open_store

    with Catalog(catalog_file(demo_store)) as catalog:
        keys = sorted(catalog.keys())
    texts = [prepare_text("\n\n".join(t[1:])) for t in paper_texts(open_store(demo_store, read_only=True), keys)]
    texts += [prepare_text(t) for t in EDGE_TEXTS]
    texts.append("lung cancer cells; non small cell lung cancer; acute respiratory distress syndrome (ARDS)")
    gazetteer = Gazetteer.build(load(DEMO_VOCABULARY))
    theirs, ours = _phrase_matcher_and_ours(gazetteer)
    strings = gazetteer._nlp.vocab.strings
    found = nested = 0
    for multiplier in (None, 1, 0):
        if multiplier is not None:
            monkeypatch.setattr(tokens_module, "_MULTIPLIER", multiplier)
            ours = GazetteerExtractor(gazetteer).matcher
            assert isinstance(ours, NormMatcher)
        for text in texts:
            doc = gazetteer._nlp.make_doc(text)
            expected = sorted((strings[m], s, e) for m, s, e in theirs(doc))
            assert sorted(ours(Tokens.of_doc(doc).table)) == expected, text[:80]
            found += len(expected)
            nested += sum(1 for _k, s, e in expected for _k2, s2, e2 in expected if (s, e) != (s2, e2) and s <= s2 and e2 <= e)
    assert found > 300 and nested > 10


def test_norm_matcher_keys_sharing_a_phrase_both_match():
    from ckg.etl.tokens import NormMatcher

    matcher = NormMatcher({"first": [(5, 6)], "second": [(5, 6), (6,)], "third": [()]})
    table = np.zeros((3, 5), dtype=np.uint64)
    table[:, 4] = [5, 6, 5]
    assert matcher(table) == [("first", 0, 2), ("second", 0, 2), ("second", 1, 2)]
    assert NormMatcher({})(table) == [] and matcher(table[:0]) == []


def test_simple_pieces_are_split_as_spacy_splits_them():
    """The pieces the tokenizer splits without spaCy: every combination of an opening bracket, a
    word, a per cent sign, a closing bracket and a stop, against spaCy; the special cases among
    them ("p.", "A.", "cannot") are left to spaCy."""
    from ckg.etl.concepts import blank_pipeline
    from ckg.etl.tokens import PieceTokenizer

    nlp = blank_pipeline()
    tokenizer = PieceTokenizer(nlp)
    words = ("cells", "ARDS", "A", "a", "p", "xA", "HeLa", "mRNA", "e", "ACE2", "S1", "COVID19", "12", "0.05",
             "1,000", "10.1.2", "2020", "cannot", "Im", "dont", "vs", "Fig", "U", "Jan", "am", "km")
    simple = 0
    for opening in ("", "(", "["):
        for word in words:
            for percent in ("", "%"):
                for closing in ("", ")", "]"):
                    for stop in ("", ",", ";", ":", "."):
                        piece = opening + word + percent + closing + stop
                        tokens = tokenizer._simple(piece)
                        if tokens is not None:
                            simple += 1
                            assert tokens == [t.text for t in nlp.make_doc(piece)], piece
    assert simple > 1200
    assert tokenizer._simple("p.") is None and tokenizer._simple("cannot") is None and tokenizer._simple("5mg") is None


def test_the_v4_path_finds_the_same_mentions(demo_store):
    """``legacy=True`` (spaCy's tokenizer, scispacy's span functions, as extractor version 4 ran
    them; the bench's reference) and the default find the same mentions and words."""
    from ckg.etl.annotate import paper_texts
    from ckg.etl.catalog import Catalog
    from ckg.store import catalog_file, open_store

    with Catalog(catalog_file(demo_store)) as catalog:
        keys = sorted(catalog.keys())
    papers = [t[1:] for t in paper_texts(open_store(demo_store, read_only=True), keys)]
    gazetteer = Gazetteer.build(load(DEMO_VOCABULARY))
    new, old = GazetteerExtractor(gazetteer), GazetteerExtractor(gazetteer, legacy=True)
    assert new.tokenizer is not None and old.tokenizer is None
    mentions = 0
    for title, abstract, body in [*papers, ("", "", EDGE_TEXTS[0]), ("", EDGE_TEXTS[1], EDGE_TEXTS[9])]:
        assert new.mention_spans(title, abstract, body) == old.mention_spans(title, abstract, body)
        assert new.extract(title, abstract, body) == old.extract(title, abstract, body)
        mentions += len(new.mention_spans(title, abstract, body))
    assert mentions > 100


def test_piece_tokenizer_on_real_papers(real_data):
    """The piece tokenizer against spaCy's on 150 of the 803 real full texts (all 803 and the
    gold-standard abstracts were checked when it was written: the same tokens)."""
    import sys

    from ckg.etl.concepts import AbbreviationFinder, _sections, blank_pipeline, prepare_text
    from ckg.etl.tokens import PieceTokenizer, table_attrs

    sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))
    from bench_concepts import read_texts

    texts = [prepare_text(_sections(*t[1:])[0]) for t in read_texts(real_data / "cord19" / "release-2020-03-13")[:150]]
    spacy_nlp, nlp = blank_pipeline(), blank_pipeline()
    ours, finder = PieceTokenizer(nlp), AbbreviationFinder(nlp.vocab)
    definitions = 0
    for text in texts:
        doc, theirs = ours(text), spacy_nlp.make_doc(text)
        assert spacy_tokens(doc) == spacy_tokens(theirs)
        assert ours.table(text)[0].tolist() == theirs.to_array(table_attrs()).tolist()
        found = finder.find(text, finder.arrays(doc))
        assert sorted((lf, sorted(shorts)) for lf, shorts in found) == sorted(
            ((lf.start, lf.end), sorted((s.start, s.end) for s in shorts)) for lf, shorts in finder.scispacy(theirs))
        definitions += len(found)
    assert definitions > 500
