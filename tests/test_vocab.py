"""Vocabulary loaders (MeSH N-Triples and XML, OBO), merging into concepts, kinds, and `ckg vocab fetch`."""

from __future__ import annotations

import functools
import gzip
import http.server
import json
import shutil
import threading

import pytest

from ckg.etl.vocab import DEMO_VOCABULARY, VocabularyError, detect_format, load, read_terms
from ckg.etl.vocab.fetch import FetchError, fetch
from ckg.etl.vocab.kinds import kind_from_trees
from ckg.etl.vocab.merge import merge
from ckg.etl.vocab.mesh_rdf import read_mesh_nt
from ckg.etl.vocab.mesh_xml import read_mesh_xml
from ckg.etl.vocab.obo import read_obo
from ckg.etl.vocab.records import VocabTerm

from conftest import FIXTURES

MESH_XML = FIXTURES / "vocab" / "desc-mini.xml"
MESHV = "http://id.nlm.nih.gov/mesh/vocab#"


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


OBO = """format-version: 1.2
ontology: doid

[Term]
id: DOID:2841
name: asthma
synonym: "bronchial asthma" EXACT []
synonym: "wheezing \\"disorder\\"" EXACT [] {source="x"}
synonym: "airway hyperreactivity" RELATED []
xref: MSH:D001249
xref: UMLS_CUI:C0004096
xref: SNOMEDCT_US_2020_03_01:195967001
xref: ICD10CM:J45 ! not kept

[Term]
id: DOID:0080600
name: COVID-19
synonym: "SARS-CoV-2 infection" EXACT []
property_value: skos:exactMatch "MESH:D000086382" xsd:string
property_value: skos:exactMatch "UMLS_CUI:C5203670" xsd:string

[Term]
id: DOID:9999999
name: an obsolete term
is_obsolete: true

[Typedef]
id: has_symptom
name: has symptom
"""


def test_obo_terms_synonyms_and_cross_references(tmp_path):
    terms = list(read_obo(write(tmp_path / "x.obo", OBO)))
    assert [t.id for t in terms] == ["DOID:2841", "DOID:0080600"]  # obsolete terms and typedefs skipped
    asthma, covid = terms
    assert asthma.source == "DOID" and asthma.label == "asthma"
    assert asthma.synonyms == ["bronchial asthma", 'wheezing "disorder"']  # EXACT only, escapes read
    assert asthma.xrefs == ["MESH:D001249", "UMLS:C0004096"]  # SNOMED and ICD are no identifiers ckg keeps
    assert covid.xrefs == ["MESH:D000086382", "UMLS:C5203670"]
    related = list(read_obo(tmp_path / "x.obo", synonym_scopes=("EXACT", "RELATED")))[0]
    assert "airway hyperreactivity" in related.synonyms


def _nt(tmp_path, gz: bool):
    lines = [
        f'<http://id.nlm.nih.gov/mesh/D011014> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{MESHV}TopicalDescriptor> .',
        '<http://id.nlm.nih.gov/mesh/D011014> <http://www.w3.org/2000/01/rdf-schema#label> "Pneumonia"@en .',
        f'<http://id.nlm.nih.gov/mesh/D011014> <{MESHV}identifier> "D011014" .',
        f'<http://id.nlm.nih.gov/mesh/D011014> <{MESHV}treeNumber> <http://id.nlm.nih.gov/mesh/C08.381.677> .',
        f'<http://id.nlm.nih.gov/mesh/D011014> <{MESHV}preferredConcept> <http://id.nlm.nih.gov/mesh/M1> .',
        f'<http://id.nlm.nih.gov/mesh/M1> <{MESHV}preferredTerm> <http://id.nlm.nih.gov/mesh/T1> .',
        f'<http://id.nlm.nih.gov/mesh/M1> <{MESHV}term> <http://id.nlm.nih.gov/mesh/T2> .',
        f'<http://id.nlm.nih.gov/mesh/T1> <{MESHV}prefLabel> "Pneumonia"@en .',
        f'<http://id.nlm.nih.gov/mesh/T2> <{MESHV}prefLabel> "Lung Inflammation"@en .',
        f'<http://id.nlm.nih.gov/mesh/T2> <{MESHV}altLabel> "Pneumonitis \\u00e9"@en .',
        f'<http://id.nlm.nih.gov/mesh/T2> <{MESHV}prefLabel> "Pneumonie"@fr .',
        # a supplementary concept record, a qualifier and a tree number node: not descriptors
        f'<http://id.nlm.nih.gov/mesh/C000657245> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{MESHV}SCR_Chemical> .',
        '<http://id.nlm.nih.gov/mesh/C000657245> <http://www.w3.org/2000/01/rdf-schema#label> "remdesivir"@en .',
        f'<http://id.nlm.nih.gov/mesh/Q000188> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{MESHV}Qualifier> .',
        '<http://id.nlm.nih.gov/mesh/Q000188> <http://www.w3.org/2000/01/rdf-schema#label> "drug therapy"@en .',
        f'<http://id.nlm.nih.gov/mesh/C08.381.677> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{MESHV}TreeNumber> .',
        '<http://id.nlm.nih.gov/mesh/C08.381.677> <http://www.w3.org/2000/01/rdf-schema#label> "C08.381.677" .',
    ]
    text = "\n".join(lines) + "\n"
    if gz:
        path = tmp_path / "mesh.nt.gz"
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path = write(tmp_path / "mesh.nt", text)
    return path


@pytest.mark.parametrize("gz", [False, True])
def test_mesh_ntriples_descriptors_with_entry_terms(tmp_path, gz):
    terms = list(read_mesh_nt(_nt(tmp_path, gz)))
    assert terms == [VocabTerm("MESH:D011014", "Pneumonia", "MESH", ["Lung Inflammation", "Pneumonitis é"], [],
                               ["C08.381.677"], entry_terms=["Lung Inflammation", "Pneumonitis é"])]


@pytest.mark.realdata
def test_mesh_ntriples_real_file_streams_descriptors(real_data):
    path = real_data / "vocab" / "mesh" / "mesh-2015-descriptors.nt.gz"
    terms = {t.id: t for t in read_mesh_nt(path)}
    assert len(terms) == 27455
    assert terms["MESH:D001249"].label == "Asthma" and terms["MESH:D001249"].tree_numbers == [
        "C08.127.108", "C08.381.495.108", "C08.674.095", "C20.543.480.680.095"]
    assert terms["MESH:D011014"].tree_numbers == ["C08.381.677", "C08.730.610"]


def test_mesh_xml_descriptors():
    terms = list(read_mesh_xml(MESH_XML))
    assert [t.id for t in terms] == ["MESH:D001249", "MESH:D012128", "MESH:D007703", "MESH:D010361"]
    asthma = terms[0]
    assert asthma.synonyms == ["Asthmas", "Bronchial Asthma"] and asthma.xrefs == ["UMLS:C0004096"]
    assert terms[1].synonyms == ["Acute Respiratory Distress Syndrome", "ARDS"]
    gz = MESH_XML.read_bytes()
    assert [t.id for t in read_mesh_xml(__import__("io").BytesIO(gz))] == [t.id for t in terms]


def test_mesh_entry_terms_are_told_from_labels_and_exact_synonyms():
    """A concept's entry terms are the names only MeSH entry terms give: a label of another file
    (MeSH 2015's label of the same descriptor) or an OBO synonym of a merged term makes a name more."""
    assert [t.entry_terms for t in read_mesh_xml(MESH_XML)][:2] == [
        ["Asthmas", "Bronchial Asthma"], ["Acute Respiratory Distress Syndrome", "ARDS"]]
    terms = [VocabTerm("MESH:D005190", "Family", "MESH", ["Relatives", "Kinship"], tree_numbers=["F01.829.263"],
                       entry_terms=["Relatives", "Kinship"]),
             VocabTerm("MESH:D005190", "Kinship", "MESH"),  # an older edition's label
             VocabTerm("MESH:D011014", "Pneumonia", "MESH", ["Pneumonitis", "Lung Inflammation"],
                       tree_numbers=["C08.381.677"], entry_terms=["Pneumonitis", "Lung Inflammation"]),
             VocabTerm("DOID:552", "pneumonia", "DOID", ["Pneumonitis"], ["MESH:D011014"])]
    concepts = {c.key: c for c in merge(terms)}
    assert concepts["mesh-D005190"].synonyms == ["Relatives", "Kinship"]
    assert concepts["mesh-D005190"].entry_terms == ["Relatives"]
    assert concepts["mesh-D011014"].entry_terms == ["Lung Inflammation"]  # DOID's exact synonym is no mere entry term


def test_formats_are_told_by_name_and_content(tmp_path):
    assert detect_format(MESH_XML) == "mesh-xml"
    odd = tmp_path / "download"
    shutil.copy(MESH_XML, odd)
    assert detect_format(odd) == "mesh-xml"
    (tmp_path / "obo-file").write_text(OBO)
    assert detect_format(tmp_path / "obo-file") == "obo"
    (tmp_path / "page.html").write_text("<html>not found</html>")
    with pytest.raises(VocabularyError, match="not a MeSH N-Triples, MeSH XML or OBO file"):
        detect_format(tmp_path / "page.html")
    with pytest.raises(VocabularyError, match="no such vocabulary file"):
        detect_format(tmp_path / "missing.obo")


def test_merging_gives_one_concept_with_all_identifiers(tmp_path):
    obo = write(tmp_path / "doid.obo", OBO)
    vocab = load([MESH_XML, obo])
    asthma = vocab.by_key["mesh-D001249"]
    assert asthma.ids == ["MESH:D001249", "DOID:2841"] and asthma.umls == ["C0004096"]
    assert asthma.label == "Asthma" and asthma.kind == "condition"
    assert asthma.names == ["Asthma", "asthma", "Asthmas", "Bronchial Asthma", "bronchial asthma", 'wheezing "disorder"']
    # a DOID that maps to a MeSH descriptor not loaded keeps the MeSH-based key: IRIs do not depend on what is loaded
    assert vocab.by_key["mesh-D000086382"].ids == ["MESH:D000086382", "DOID:0080600"]
    assert [f["format"] for f in vocab.files] == ["mesh-xml", "obo"] and vocab.files[1]["terms"] == 2
    assert len(vocab.files[0]["sha256"]) == 64


def test_merging_refuses_many_to_one_and_disagreeing_mappings():
    concepts = merge([
        VocabTerm("MESH:D008223", "Lymphoma", "MESH", tree_numbers=["C04.557.386"]),
        VocabTerm("DOID:1", "lymphoma of the a", "DOID", xrefs=["MESH:D008223"]),
        VocabTerm("DOID:2", "lymphoma of the b", "DOID", xrefs=["MESH:D008223"]),
        VocabTerm("MESH:D018352", "Coronavirus Infections", "MESH", tree_numbers=["C02.782.600.550.200"]),
        VocabTerm("DOID:0080642", "Middle East respiratory syndrome", "DOID", ["MERS"], ["MESH:D018352"]),
        VocabTerm("MONDO:1", "Coronavirus infection", "COVOC", xrefs=["MESH:D018352"]),
    ])
    by_key = {c.key: c.ids for c in concepts}
    assert by_key == {"mesh-D008223": ["MESH:D008223"], "doid-1": ["DOID:1"], "doid-2": ["DOID:2"],
                      "mesh-D018352": ["MESH:D018352", "MONDO:1"], "doid-0080642": ["DOID:0080642"]}


def test_kinds_from_mesh_trees_and_obo_prefixes():
    assert kind_from_trees(["D08.811", "C08.381"]) == "condition"
    vocab = load(DEMO_VOCABULARY)
    kinds = {k: vocab.by_key[k].kind for k in ("mesh-D011014", "mesh-D006886", "mesh-D014057", "mesh-D017934",
                                                "mesh-D008168", "mesh-D010802", "ncbitaxon-2697049", "pr-Q9BYF1",
                                                "chebi-145994", "doid-0080642", "covoc-0050077")}
    assert kinds == {"mesh-D011014": "condition", "mesh-D006886": "chemical", "mesh-D014057": "procedure",
                     "mesh-D017934": "organism", "mesh-D008168": "anatomy", "mesh-D010802": "other",
                     "ncbitaxon-2697049": "organism", "pr-Q9BYF1": "other", "chebi-145994": "chemical",
                     "doid-0080642": "condition", "covoc-0050077": "other"}
    # proteins (PR terms, MeSH D12), enzymes (D08) and drug classes (D27) are no chemical substances;
    # a descriptor with a substance tree besides stays a chemical
    assert kind_from_trees(["D12.776.964.970.880.910.665"]) == "other"  # Spike Glycoprotein, Coronavirus
    assert kind_from_trees(["D27.505.954.122.388"]) == "other"  # Antiviral Agents
    assert kind_from_trees(["D03.633.100.221.173", "D27.505.954.122.388"]) == "chemical"


def test_the_shipped_vocabulary_covers_the_demo_corpus_concepts():
    from ckg.demo_corpus import TOPICS
    from ckg.etl.concepts import Gazetteer, GazetteerExtractor

    extractor = GazetteerExtractor(Gazetteer.build(load(DEMO_VOCABULARY)))
    phrases = sorted({c for t in TOPICS for c in t["concepts"]})
    missed = [p for p in phrases if not extractor.extract(p, "", "").mentions]
    # "older age": a phrase of the demo corpus that is no concept; "stress": a MeSH entry term of
    # Stress, Psychological that is a common English word (oxidative stress, ER stress), so not
    # matched on its own (ckg.etl.concepts); "psychological stress" still is
    assert missed == ["older age", "stress"]
    assert extractor.extract("psychological stress", "", "").mentions == {"mesh-D013315": (1, 0, 0)}
    assert all(len(list(read_terms(p))) > 10 for p in DEMO_VOCABULARY)


# -- ckg vocab fetch, against a server on the loopback interface ---------------------------------

@pytest.fixture
def server(tmp_path):
    root = tmp_path / "served"
    root.mkdir()
    (root / "mesh.nt.gz").write_bytes(gzip.compress(DEMO_VOCABULARY[0].read_bytes()))
    shutil.copy(DEMO_VOCABULARY[1], root / "doid.obo")
    (root / "error.html").write_text("<html><body>maintenance</body></html>")
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_fetch_downloads_checks_and_records_the_source(server, tmp_path):
    out = tmp_path / "vocab"
    got = fetch("mesh", out, url=f"{server}/mesh.nt.gz", timeout=10)
    assert got.path == out / "mesh.nt.gz" and got.format == "mesh-nt"
    assert gzip.decompress(got.path.read_bytes()) == DEMO_VOCABULARY[0].read_bytes()
    source = json.loads((out / "mesh.nt.gz.source.json").read_text())
    assert source["url"] == f"{server}/mesh.nt.gz" and source["sha256"] == got.sha256 and source["bytes"] == got.bytes
    assert len(load([got.path])) == len(load([DEMO_VOCABULARY[0]]))
    assert not list(out.glob("*.part"))


def test_fetch_refuses_errors_and_pages_that_are_no_vocabulary(server, tmp_path):
    out = tmp_path / "vocab"
    with pytest.raises(FetchError, match="could not download .*/missing.obo: HTTP 404"):
        fetch("doid", out, url=f"{server}/missing.obo", timeout=10)
    with pytest.raises(FetchError, match="did not give a MeSH N-Triples, MeSH XML or OBO file"):
        fetch("doid", out, url=f"{server}/error.html", timeout=10)
    assert list(out.iterdir()) == []  # nothing half-downloaded is left
    with pytest.raises(FetchError, match="unknown vocabulary 'snomed'"):
        fetch("snomed", tmp_path)


def test_vocab_fetch_command(server, tmp_path):
    from click.testing import CliRunner

    from ckg.cli import main

    out = tmp_path / "vocab"
    result = CliRunner().invoke(main, ["vocab", "fetch", "doid", "--out", str(out), "--url", f"{server}/doid.obo",
                                       "--timeout", "10"])
    assert result.exit_code == 0, result.output
    assert f"wrote {out / 'doid.obo'}" in result.output and "obo, sha256" in result.output
    assert "ckg build --vocab" in result.output
    bad = CliRunner().invoke(main, ["vocab", "fetch", "doid", "--out", str(out), "--url", f"{server}/nope.obo",
                                    "--timeout", "10"])
    assert bad.exit_code == 1 and "Error: could not download" in bad.output


def test_mesh_ntriples_streaming_holds_only_what_the_gazetteer_needs(tmp_path):
    """200,000 triples of supplementary records and qualifiers around two descriptors: reading
    them keeps the descriptors, not the rest (peak memory far below the file's size)."""
    import tracemalloc

    path = tmp_path / "big.nt.gz"
    scr = f"<{MESHV}SCR_Chemical>"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        for i in range(100_000):
            s = f"<http://id.nlm.nih.gov/mesh/C{i:09d}>"
            out.write(f"{s} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> {scr} .\n")
            out.write(f'{s} <http://www.w3.org/2000/01/rdf-schema#label> "a supplementary chemical number {i}"@en .\n')
            out.write(f"{s} <{MESHV}preferredConcept> <http://id.nlm.nih.gov/mesh/M{i:09d}> .\n")
        out.write(_nt(tmp_path, gz=False).read_text())
    size = sum(len(line) for line in gzip.open(path, "rt", encoding="utf-8"))
    tracemalloc.start()
    terms = list(read_mesh_nt(path))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert [t.id for t in terms] == ["MESH:D011014"]
    assert size > 15_000_000 and peak < 2_000_000, (size, peak)
