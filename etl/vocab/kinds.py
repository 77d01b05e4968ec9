"""Concept kinds comparable to the CKG's, from MeSH tree numbers and OBO id prefixes.

The CKG typed its concepts with Amazon Comprehend Medical's categories; ckg uses the same
coarse kinds, each an ontology class under ``ckg:Concept``:

=====================  ==============================  =========================================
kind                   class                           from
=====================  ==============================  =========================================
``condition``          ``ckg:MedicalCondition``        MeSH C (diseases), F03 (mental disorders);
                                                       DOID, MONDO, HP, ORDO terms
``chemical``           ``ckg:ChemicalOrDrug``          MeSH D; CHEBI, PR, DrugBank terms
``procedure``          ``ckg:TestTreatmentProcedure``  MeSH E (analytical, diagnostic and
                                                       therapeutic techniques); OBI, MAXO, CHMO
``organism``           ``ckg:Organism``                MeSH B; NCBITaxon terms
``anatomy``            ``ckg:Anatomy``                 MeSH A; UBERON, CL, CLO terms
``other``              ``ckg:PhenomenonOrOther``       MeSH G (phenomena), F01/F02/F04, N, ...;
                                                       GO, PATO, NCIT, EFO, COVOC, ... terms
=====================  ==============================  =========================================

A descriptor with tree numbers in several categories takes the first kind in the order of the
table (a disease that is also a phenomenon is a condition). A merged concept with MeSH tree
numbers takes its kind from them, else from its OBO terms' prefixes (same order).

>>> kind_from_trees(["G04.610", "C08.381.677"]), kind_from_trees(["F03.080"]), kind_from_trees([])
('condition', 'condition', None)
>>> kind_from_prefixes(["NCIT", "PR"]), kind_from_prefixes(["COVOC"])
('chemical', 'other')
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
    "CHEBI": "chemical", "PR": "chemical", "DRUGBANK": "chemical",
    "OBI": "procedure", "MAXO": "procedure", "CHMO": "procedure",
    "NCBITAXON": "organism",
    "UBERON": "anatomy", "CL": "anatomy", "CLO": "anatomy",
}


def kind_from_tree(tree: str) -> str:
    letter = tree[:1].upper()
    if letter == "C" or tree.upper().startswith("F03"):
        return "condition"
    return {"D": "chemical", "E": "procedure", "B": "organism", "A": "anatomy"}.get(letter, "other")


def kind_from_trees(trees: Iterable[str]) -> str | None:
    kinds = {kind_from_tree(t) for t in trees}
    return next((k for k in KINDS if k in kinds), None)


def kind_from_prefixes(prefixes: Iterable[str]) -> str:
    kinds = {_PREFIX_KINDS.get(p.upper(), "other") for p in prefixes}
    return next((k for k in KINDS if k in kinds), "other")


def is_excluded_tree(tree: str, excluded: Iterable[str] = EXCLUDED_TREES) -> bool:
    return any(tree.upper().startswith(e) for e in excluded)
