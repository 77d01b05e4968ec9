"""Concept kinds comparable to the CKG's, from MeSH tree numbers and OBO id prefixes.

The CKG typed its concepts with Amazon Comprehend Medical's categories; ckg uses the same
coarse kinds, each an ontology class under ``ckg:Concept``:

=====================  ==============================  =========================================
kind                   class                           from
=====================  ==============================  =========================================
``condition``          ``ckg:MedicalCondition``        MeSH C (diseases), F03 (mental disorders);
                                                       DOID, MONDO, HP, ORDO terms
``chemical``           ``ckg:ChemicalOrDrug``          MeSH D but D08, D12 (its amino acids,
                                                       D12.125, are), D23, D26, D27 (see below);
                                                       CHEBI, DrugBank terms
``procedure``          ``ckg:TestTreatmentProcedure``  MeSH E (analytical, diagnostic and
                                                       therapeutic techniques); OBI, MAXO, CHMO
``organism``           ``ckg:Organism``                MeSH B; NCBITaxon terms
``anatomy``            ``ckg:Anatomy``                 MeSH A; UBERON, CL, CLO terms
``other``              ``ckg:PhenomenonOrOther``       MeSH G (phenomena), F01/F02/F04, N, ...;
                                                       GO, PATO, NCIT, EFO, COVOC, ... terms
=====================  ==============================  =========================================

A chemical is a substance. MeSH D08 (enzymes and coenzymes), D12 (amino acids, peptides and
proteins: gene products), D23 (biological factors), D26 (pharmaceutical preparations) and D27
(chemical actions and uses: roles and drug classes such as "Analgesics" or "Placebos") give the
kind ``other``, as do Protein Ontology (PR) terms: people annotating chemicals leave them out (on
the BioCreative V CDR development set, counting them as chemicals made 586 of the 835 chemical
false positives against 53 of 1,191 true positives; ``ckg concepts evaluate``). The amino acids
(D12.125: glutamate, glycine, NMDA, captopril) are chemicals all the same: they are substances,
and the annotators mark them (chemical F1 0.876 to 0.893 there, with the learned lexicon).

A descriptor with tree numbers in several categories takes the first kind in the order of the
table (a disease that is also a phenomenon is a condition; a hormone in D06 and D12 is a
chemical). A merged concept with MeSH tree numbers takes its kind from them, else from its OBO
terms' prefixes (same order).

>>> kind_from_trees(["G04.610", "C08.381.677"]), kind_from_trees(["F03.080"]), kind_from_trees([])
('condition', 'condition', None)
>>> kind_from_trees(["D12.776.964"]), kind_from_trees(["D06.472.699", "D12.644.548"]), kind_from_trees(["D27.505"])
('other', 'chemical', 'other')
>>> kind_from_trees(["D12.125.067.625.349"])  # Glutamic Acid
'chemical'
>>> kind_from_prefixes(["NCIT", "CHEBI"]), kind_from_prefixes(["PR"]), kind_from_prefixes(["COVOC"])
('chemical', 'other', 'other')
>>> is_excluded_tree("Z01.639.240"), is_excluded_tree("C08.381")
(True, False)
"""

from __future__ import annotations

from collections.abc import Iterable

KINDS = ("condition", "chemical", "procedure", "organism", "anatomy", "other")
"""Kinds in order of precedence."""

KIND_CLASSES = {
    "condition": "MedicalCondition",
    "chemical": "ChemicalOrDrug",
    "procedure": "TestTreatmentProcedure",
    "organism": "Organism",
    "anatomy": "Anatomy",
    "other": "PhenomenonOrOther",
}
"""Kind -> local name of its class in the ckg ontology."""

EXCLUDED_TREES = ("H", "I", "J", "K", "L", "M", "V", "Z")
"""MeSH categories that name no biomedical concept of a paper (disciplines, anthropology and
education, technology, humanities, information science, named groups of persons, publication
characteristics, geographic places): a descriptor all of whose tree numbers are in them is left
out of the gazetteer."""

_PREFIX_KINDS = {
    "DOID": "condition", "MONDO": "condition", "HP": "condition", "ORDO": "condition",
    "CHEBI": "chemical", "DRUGBANK": "chemical",
    "OBI": "procedure", "MAXO": "procedure", "CHMO": "procedure",
    "NCBITAXON": "organism",
    "UBERON": "anatomy", "CL": "anatomy", "CLO": "anatomy",
}


NOT_SUBSTANCES = ("D08", "D12", "D23", "D26", "D27")
"""MeSH D branches whose descriptors are no chemical substance of their own (see above)."""

SUBSTANCES = ("D12.125",)
"""Branches of those that are substances all the same: the amino acids (glutamate, glycine,
NMDA, captopril)."""


def kind_from_tree(tree: str) -> str:
    letter = tree[:1].upper()
    if letter == "C" or tree.upper().startswith("F03"):
        return "condition"
    if tree[:3].upper() in NOT_SUBSTANCES and not tree.upper().startswith(SUBSTANCES):
        return "other"
    return {"D": "chemical", "E": "procedure", "B": "organism", "A": "anatomy"}.get(letter, "other")


def kind_from_trees(trees: Iterable[str]) -> str | None:
    kinds = {kind_from_tree(t) for t in trees}
    return next((k for k in KINDS if k in kinds), None)


def kind_from_prefixes(prefixes: Iterable[str]) -> str:
    kinds = {_PREFIX_KINDS.get(p.upper(), "other") for p in prefixes}
    return next((k for k in KINDS if k in kinds), "other")


def is_excluded_tree(tree: str, excluded: Iterable[str] = EXCLUDED_TREES) -> bool:
    return any(tree.upper().startswith(e) for e in excluded)
