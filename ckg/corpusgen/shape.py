"""CORD-19's shape: distributions measured on the real data in ``../shared/data`` (no text of it).

Every table here says where it was measured; ``bench/measure_real_shape.py --derive`` prints
them again from the data. The scale generator (:mod:`ckg.corpusgen.scale`) samples from them.

* :data:`ROW_PROFILES`: the joint pattern of a metadata row (sources, license, which identifiers
  and fields are filled, number of PDF parses, PMC parse, date format, year), counted on the
  random 1,000-row sample of the final release (``metadata-2022-06-sample1000.csv``): sampling
  profiles reproduces the columns' shares and their dependencies (a WHO row has no parse, a
  ``Medline; PMC`` row nearly always has both parses, ...). Flags: D doi, C pmcid, P pubmed_id,
  W who_covidence_id, X arxiv_id, A abstract, J journal, S s2_id, U url, M pmc_json parse.
* quantile tables (21 values: minimum, 5%, 10%, ..., 95%, and a last value set so that the top 5%
  keep their real mean rather than the single largest value's pull), sampled by linear interpolation:
  abstract lengths (same sample), and for full texts the 803 bioRxiv/medRxiv PDF parses of
  2020-03-13 (body length, paragraphs, bibliography entries, figure/table entries).
* :data:`AUTHOR_COUNTS`, :data:`TITLE_WORDS`, :data:`OLD_YEARS`: counts on the same sample.

>>> sum(p.weight for p in profiles()), len(profiles()) > 200
(1000, True)
>>> from_quantiles(0.5, BIB_ENTRIES), from_quantiles(0.0, BIB_ENTRIES), from_quantiles(1.0, BIB_ENTRIES)
(25.0, 1.0, 155.0)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

# count|source_x|license|flags|PDF parses|publish_time length|year ("old": before 2019, "-": none)
ROW_PROFILES = """\
111|WHO|unk|WAJS|0|4|2021
98|WHO|unk|WAJS|0|4|2020
61|WHO|unk|WJS|0|4|2020
34|WHO|unk|DWAJSU|0|4|2021
33|WHO|unk|WJS|0|4|2021
32|Medline; PMC|cc-by|DCPAJSUM|1|10|2021
22|Medline|unk|DPAJSU|0|4|old
22|Medline|unk|DPAJSU|0|10|2021
19|Medline|unk|DPAJSU|0|10|2020
16|Medline; PMC|cc-by|DCPAJSUM|1|10|2020
15|Medline; PMC; WHO|cc-by|DCPAJSUM|1|10|2021
15|WHO|unk|DWAJSU|0|4|2022
14|Medline; PMC|cc-by|DCPAJSUM|1|10|2022
14|Medline; PMC|no-cc|DCPAJSUM|1|10|2020
14|Medline; WHO|unk|DPWAJSU|0|4|2022
13|Medline; PMC; WHO|no-cc|DCPAJSUM|1|10|2021
12|Medline; PMC|no-cc|DCPAJSUM|1|10|2021
12|WHO|unk|WAS|0|4|2021
11|Elsevier; Medline; PMC|no-cc|DCPAJSUM|1|10|2020
9|Medline; WHO|unk|DPWAJSU|0|4|2021
9|WHO|unk|WAS|0|4|2020
8|Medline|unk|DPJSU|0|10|2020
8|WHO|unk|DWASU|0|4|2021
7|Elsevier; Medline; PMC|no-cc|DCPAJSUM|1|10|old
7|Medline; WHO|unk|DPWJSU|0|4|2021
7|WHO|unk|WAJS|0|4|2022
6|ArXiv|arxiv|XASU|1|10|2021
6|Elsevier; Medline; PMC; WHO|no-cc|DCPAJSUM|2|10|2022
6|Medline; PMC|cc-by|DCPJSUM|1|10|2020
6|Medline; PMC|cc-by|DCPJSUM|1|10|2021
6|Medline; PMC|no-cc|DCPJSUM|1|10|2020
6|PMC|cc-by|DCPAJUM|1|10|2021
5|ArXiv|arxiv|XASU|1|10|2022
5|BioRxiv; WHO|biorxiv|DAJSU|1|10|2020
5|Medline|unk|DPJSU|0|10|2021
5|Medline|unk|PAJSU|0|4|old
5|Medline; PMC|no-cc|DCPAJSU|1|10|2020
5|Medline; WHO|unk|DPWJSU|0|4|2022
5|PMC|no-cc|DCAJUM|1|10|2020
4|BioRxiv|biorxiv|DAJSU|1|10|2021
4|Elsevier; Medline; PMC|els-covid|DCPAJSU|1|10|2020
4|MedRxiv; WHO|medrxiv|DASU|1|10|2021
4|Medline|cc-by|DPAJSU|0|10|2020
4|Medline|unk|DPAJSU|0|10|2022
4|Medline; PMC|cc-by|DCPAJSUM|1|10|old
4|Medline; PMC; WHO|cc-by|DCPAJSUM|1|10|2022
4|Medline; PMC; WHO|no-cc|DCPAJSUM|1|10|2022
4|Medline; WHO|unk|DPAJSU|0|10|2021
4|PMC|cc-by|DCPAJUM|1|10|2022
4|PMC|no-cc|DCAJUM|1|10|2021
4|PMC|no-cc|DCJU|0|10|2020
4|PMC|no-cc|DCJUM|1|10|2021
4|WHO|cc-by|DWASU|0|4|2020
4|WHO|unk|WS|0|4|2021
3|ArXiv|arxiv|DXASU|1|10|2021
3|Elsevier; Medline; PMC|els-covid|DCPJSUM|1|10|2020
3|Elsevier; Medline; PMC; WHO|no-cc|DCPAJSUM|1|10|2022
3|Elsevier; Medline; PMC; WHO|no-cc|DCPAJSUM|2|10|2021
3|Elsevier; Medline; PMC; WHO|no-cc|DCPJSUM|1|10|2021
3|MedRxiv; WHO|medrxiv|DASU|1|10|2020
3|Medline|unk|DPJSU|0|4|old
3|Medline|unk|PJSU|0|4|old
3|Medline; PMC|cc-by-nc|DCPAJSUM|1|10|2021
3|Medline; PMC|no-cc|DCPAJSUM|1|10|2022
3|Medline; PMC|no-cc|DCPAJSUM|1|10|old
3|Medline; PMC|no-cc|DCPJSUM|1|10|2021
3|Medline; PMC; WHO|cc-by-nc-nd|DCPAJSUM|1|10|2021
3|Medline; WHO|unk|DPAJSU|0|10|2022
3|Medline; WHO|unk|DPJSU|0|10|2021
3|PMC|cc-by|DCAJUM|1|10|2021
3|PMC|no-cc|DCJUM|1|10|2020
3|WHO|unk|WS|0|4|2020
2|ArXiv|arxiv|XASU|1|10|2020
2|Elsevier; Medline; PMC|els-covid|DCPJSU|1|10|2020
2|Elsevier; Medline; PMC|no-cc|DCPAJSUM|1|10|2021
2|Elsevier; Medline; PMC|no-cc|DCPAJSUM|2|10|2020
2|Elsevier; Medline; PMC|no-cc|DCPJSUM|1|10|2020
2|Elsevier; Medline; PMC; WHO|no-cc|DCPAJSUM|1|10|2021
2|Elsevier; Medline; PMC; WHO|no-cc|DCPJSUM|1|10|2022
2|Elsevier; Medline; PMC; WHO|no-cc|DCPJSUM|2|10|2022
2|Elsevier; PMC; WHO|els-covid|DCAJSU|1|10|2021
2|Elsevier; PMC; WHO|els-covid|DCAJSU|1|10|2022
2|MedRxiv; WHO|medrxiv|DASU|0|10|2021
2|Medline|cc-by|DPJSU|0|10|2020
2|Medline|cc-by-nc|DPAJSU|0|4|old
2|Medline|cc-by-nc-nd|DPAJSU|0|10|2020
2|Medline|unk|DPAJSU|0|4|2019
2|Medline|unk|DPAJSU|0|4|2021
2|Medline|unk|DPAJSU|0|4|2022
2|Medline|unk|PJSU|0|10|2020
2|Medline; PMC|cc-by|DCPAJSU|1|10|2021
2|Medline; PMC|cc-by|DCPAJSUM|0|10|2020
2|Medline; PMC|cc-by|DCPAJSUM|0|10|2021
2|Medline; PMC|cc-by-nc|DCPAJSUM|1|10|2022
2|Medline; PMC|cc-by-nc-nd|DCPJSUM|1|10|2021
2|Medline; PMC|cc-by-nc-sa|DCPAJSUM|1|10|2020
2|Medline; PMC; WHO|cc-by|DCPAJSUM|0|10|2022
2|Medline; PMC; WHO|cc-by|DCPJSUM|1|10|2021
2|Medline; PMC; WHO|no-cc|DCPJSUM|1|10|2021
2|PMC|cc-by|DCAJUM|1|10|2020
2|PMC|cc-by|DCPAJUM|1|10|2020
2|PMC|cc-by|DCPAJUM|1|10|old
2|PMC|no-cc|DCJU|0|10|2021
2|PMC|no-cc|DCJU|0|10|old
2|PMC|no-cc|DCJUM|0|10|2021
2|WHO|unk|DWASU|0|4|2020
2|WHO|unk|WAS|0|4|2022
1|ArXiv; Medline; PMC|cc-by|DCPXAJSUM|2|10|2021
1|ArXiv; Medline; PMC; WHO|no-cc|DCPXAJSUM|2|10|2022
1|BioRxiv|biorxiv|DAJSU|0|10|2021
1|BioRxiv|biorxiv|DAJSU|1|10|2020
1|BioRxiv; MedRxiv|biorxiv|DAJSU|2|10|old
1|BioRxiv; Medline; WHO|biorxiv|DPAJSU|1|10|2021
1|BioRxiv; WHO|biorxiv|DAJSU|1|10|2021
1|BioRxiv; WHO|biorxiv|DAJSU|1|10|2022
1|Elsevier; Medline; PMC|els-covid|DCPAJSUM|1|10|old
1|Elsevier; Medline; PMC|green-oa|DCPAJSUM|2|10|old
1|Elsevier; Medline; PMC|no-cc|DCPAJSUM|1|10|2022
1|Elsevier; Medline; PMC|no-cc|DCPAJSUM|2|10|2021
1|Elsevier; Medline; PMC|no-cc|DCPJSUM|0|10|2020
1|Elsevier; Medline; PMC|no-cc|DCPJSUM|1|10|2021
1|Elsevier; Medline; PMC; WHO|els-covid|DCPJSU|1|10|2021
1|Elsevier; Medline; PMC; WHO|no-cc|DCPJSUM|0|10|2022
1|Elsevier; PMC|els-covid|DCAJSUM|1|10|old
1|Elsevier; PMC|els-covid|DCASU|0|10|2021
1|Elsevier; PMC|els-covid|DCASU|1|10|2020
1|Elsevier; PMC|els-covid|DCASU|1|10|2021
1|Elsevier; PMC|no-cc|DCAJSUM|0|10|2020
1|Elsevier; PMC|no-cc|DCAJSUM|1|10|2021
1|Elsevier; PMC|no-cc|DCAJSUM|1|10|old
1|Elsevier; PMC; WHO|els-covid|DCAJSU|0|10|2021
1|Elsevier; PMC; WHO|els-covid|DCAJSU|0|10|2022
1|Elsevier; PMC; WHO|no-cc|DCAJSUM|1|10|2021
1|MedRxiv|medrxiv|DASU|0|10|2021
1|MedRxiv|medrxiv|DASU|1|10|2020
1|MedRxiv; Medline; PMC; WHO|cc-by-nd|DCPAJSUM|0|10|2021
1|MedRxiv; Medline; PMC; WHO|cc-by-nd|DCPAJSUM|2|10|2021
1|Medline|cc-by|DPAJSU|0|4|2020
1|Medline|cc-by|DPAJSU|0|4|old
1|Medline|cc-by-nc|DPAJSU|0|10|2020
1|Medline|cc-by-nc|DPJSU|0|10|2020
1|Medline|cc-by-nc-nd|DPAJSU|0|4|2020
1|Medline|cc-by-nc-nd|DPAJSU|0|4|old
1|Medline|cc-by-nc-nd|DPAJSU|0|10|2019
1|Medline|cc-by-nc-sa|DPAJSU|0|10|2020
1|Medline|els-covid|DPAJSU|0|4|old
1|Medline|no-cc|DPJSU|0|4|old
1|Medline|unk|DPJSU|0|4|2021
1|Medline|unk|DPJSU|0|10|2022
1|Medline|unk|DPJSU|0|10|old
1|Medline|unk|PAJSU|0|10|2020
1|Medline|unk|PAJSU|0|10|2021
1|Medline; PMC|cc-by|CPAJSUM|1|10|2022
1|Medline; PMC|cc-by|DCPAJSU|1|10|2020
1|Medline; PMC|cc-by|DCPAJSUM|3|10|2021
1|Medline; PMC|cc-by|DCPAJSUM|3|10|old
1|Medline; PMC|cc-by|DCPJSUM|1|10|old
1|Medline; PMC|cc-by-nc|DCPAJSUM|1|10|2020
1|Medline; PMC|cc-by-nc|DCPAJSUM|1|10|old
1|Medline; PMC|cc-by-nc|DCPAJSUM|3|10|2021
1|Medline; PMC|cc-by-nc|DCPJSUM|1|4|2020
1|Medline; PMC|cc-by-nc|DCPJSUM|1|10|2020
1|Medline; PMC|cc-by-nc-nd|DCPAJSUM|0|10|2021
1|Medline; PMC|cc-by-nc-nd|DCPAJSUM|1|10|2020
1|Medline; PMC|cc-by-nc-nd|DCPAJSUM|1|10|2021
1|Medline; PMC|cc-by-nc-sa|DCPJSUM|0|10|2020
1|Medline; PMC|no-cc|DCPAJSU|0|10|2020
1|Medline; PMC|no-cc|DCPAJSU|1|4|old
1|Medline; PMC|no-cc|DCPJSU|0|10|2021
1|Medline; PMC|no-cc|DCPJSUM|0|10|2020
1|Medline; PMC|no-cc|DCPJSUM|1|10|2022
1|Medline; PMC|unk|CPJSU|0|10|old
1|Medline; PMC; WHO|cc-by|DCPAJSU|1|10|2022
1|Medline; PMC; WHO|cc-by|DCPAJSUM|0|10|2021
1|Medline; PMC; WHO|cc-by|DCPJSU|1|10|2020
1|Medline; PMC; WHO|cc-by-nc|DCPAJSUM|1|10|2021
1|Medline; PMC; WHO|cc-by-nc|DCPAJSUM|1|10|2022
1|Medline; PMC; WHO|cc-by-nc|DCPAJSUM|4|10|2021
1|Medline; PMC; WHO|cc-by-nc-nd|DCPJSUM|1|10|2022
1|Medline; PMC; WHO|cc-by-nc-sa|DCPAJSUM|0|10|2022
1|Medline; PMC; WHO|cc-by-nc-sa|DCPAJSUM|1|10|2021
1|Medline; PMC; WHO|cc-by-nc-sa|DCPJSUM|1|10|2022
1|Medline; PMC; WHO|cc0|DCPAJSUM|1|10|2022
1|Medline; PMC; WHO|no-cc|DCPJSUM|1|10|2022
1|Medline; WHO|unk|DPAJSU|0|4|2021
1|Medline; WHO|unk|DPAJSU|0|4|2022
1|Medline; WHO|unk|DPJSU|0|10|2022
1|Medline; WHO|unk|DPWJSU|0|4|2020
1|PMC|cc-by|DCAJUM|1|10|2022
1|PMC|cc-by|DCPAJUM|0|10|2021
1|PMC|cc-by|DCPAJUM|1|10|2019
1|PMC|cc-by|DCPAUM|1|10|2021
1|PMC|cc-by|DCPJU|0|10|2019
1|PMC|cc-by|DCPJUM|1|10|2021
1|PMC|cc-by|DCPU|0|10|2022
1|PMC|cc-by-nc|CAJUM|1|10|2020
1|PMC|cc-by-nc|DCPAJUM|1|10|2020
1|PMC|cc-by-nc-nd|DCPAJU|1|10|2020
1|PMC|cc-by-nc-nd|DCPAUM|1|10|2022
1|PMC|hybrid-oa|DCPAJUM|1|10|old
1|PMC|no-cc|DCAJU|0|10|2020
1|PMC|no-cc|DCAJU|0|10|2021
1|PMC|no-cc|DCAJU|1|4|old
1|PMC|no-cc|DCAJU|1|10|old
1|PMC|no-cc|DCAJUM|1|10|2019
1|PMC|no-cc|DCAJUM|1|10|2022
1|PMC|no-cc|DCAJUM|1|10|old
1|PMC|no-cc|DCAU|0|10|2020
1|PMC|no-cc|DCJU|2|10|2020
1|PMC|no-cc|DCPAJU|1|10|2019
1|PMC|no-cc|DCPAJU|1|10|old
1|PMC|no-cc|DCPAJUM|1|10|2019
1|PMC|no-cc|DCPJU|0|10|2020
1|PMC|no-cc|DCPJUM|1|10|2021
1|PMC|no-cc|DCU|0|10|old
1|PMC; WHO|cc-by|DCAJSU|0|10|2021
1|PMC; WHO|cc-by|DCAJSUM|1|10|2021
1|PMC; WHO|cc-by-nc|DCPAJSUM|0|10|2021
1|PMC; WHO|cc-by-nc-nd|DCAJSU|0|10|2021
1|PMC; WHO|cc-by-nc-nd|DCAJSUM|1|10|2021
1|PMC; WHO|no-cc|DCAJSU|0|10|2021
1|PMC; WHO|no-cc|DCAJSUM|1|10|2022
1|PMC; WHO|no-cc|DCJSUM|0|10|2021
1|WHO|unk|DWASU|0|0|-
1|WHO|unk|DWJSU|0|4|2020
1|WHO|unk|DWJSU|0|4|2021
1|WHO|unk|WAJS|0|4|old
1|WHO|unk|WJS|0|0|-
1|WHO|unk|WJS|0|4|2022
"""

ABSTRACT_CHARS = (4, 490, 727, 875, 998, 1081, 1153, 1239, 1330, 1371, 1426, 1496, 1555, 1631, 1714, 1781, 1858,
                  2019, 2180, 2603, 5924)
"""Characters of a metadata abstract (rows that have one), 2022-06 sample."""

BODY_CHARS = (1237, 4871, 6074, 7488, 8950, 10272, 11366, 12834, 13932, 15111, 16628, 18042, 19885, 21591, 23456,
              25525, 28887, 32688, 38254, 47108, 77704)
"""Characters of a parse's body_text (all paragraphs), bioRxiv/medRxiv 2020-03-13."""

BODY_PARAGRAPHS = (1, 5, 9, 12, 15, 18, 20, 23, 26, 28, 30, 33, 35, 37, 40, 44, 49, 54, 62, 75, 123)
"""Paragraphs of a parse's body_text, bioRxiv/medRxiv 2020-03-13."""

BIB_ENTRIES = (1, 3, 6, 9, 12, 13, 15, 18, 20, 22, 25, 28, 32, 37, 40, 46, 51, 59, 70, 88, 155)
"""Bibliography entries of a parse, bioRxiv/medRxiv 2020-03-13 (mean 33.5)."""

REF_ENTRIES = (0, 2, 3, 5, 6, 7, 7, 8, 9, 10, 11, 12, 13, 14, 16, 18, 19, 22, 27, 35, 57)
"""Figure and table entries (``ref_entries``) of a parse, bioRxiv/medRxiv 2020-03-13."""

ABSTRACT_PARAGRAPHS = ((0, 96), (1, 270), (2, 137), (3, 87), (4, 75), (5, 51), (6, 26), (7, 12), (8, 12), (9, 8),
                       (10, 5), (11, 6), (12, 2), (13, 1), (14, 2), (15, 1), (16, 2), (17, 3), (18, 1), (20, 2))
"""(paragraphs of a PDF parse's abstract, parses), bioRxiv/medRxiv 2020-03-13 (a few above 20 left out)."""

BACK_MATTER = ((0, 371), (1, 264), (2, 108), (3, 36), (4, 11), (5, 6), (6, 4), (7, 1), (8, 1), (10, 1))
"""(back_matter paragraphs, parses), bioRxiv/medRxiv 2020-03-13."""

AUTHOR_COUNTS = ((0, 15), (1, 182), (2, 123), (3, 134), (4, 104), (5, 96), (6, 54), (7, 62), (8, 42), (9, 33),
                 (10, 32), (11, 15), (12, 20), (13, 16), (14, 9), (15, 9), (16, 7), (17, 6), (18, 6), (19, 4),
                 (20, 6), (21, 4), (22, 2), (23, 1), (24, 2), (25, 2), (26, 2), (27, 1), (28, 1), (29, 1), (30, 1),
                 (31, 1), (33, 1), (36, 1), (37, 1), (40, 1), (42, 2), (47, 1))
"""(names in a row's ``authors`` cell, rows), 2022-06 sample."""

AUTHOR_COUNTS_PREPRINT = ((1, 16), (2, 54), (3, 54), (4, 82), (5, 77), (6, 64), (7, 68), (8, 55), (9, 42), (10, 44),
                          (11, 33), (12, 29), (13, 17), (14, 25), (15, 15), (16, 12), (17, 13), (18, 13), (19, 2),
                          (20, 7), (21, 7), (22, 8), (23, 4), (24, 10), (25, 3), (26, 6), (27, 7), (28, 2), (29, 2),
                          (30, 2), (31, 1), (33, 1), (34, 1), (35, 1), (39, 1), (40, 1), (41, 1), (42, 1), (48, 1),
                          (50, 1), (53, 1))
"""(authors, parses) of the bioRxiv/medRxiv parses of 2020-03-13 that name any (mean 9.1): preprints
have more authors than the average row (the 46 preprint rows of the 2022-06 sample: mean 9.1 too)."""

TITLE_WORDS = ((1, 2), (2, 5), (3, 12), (4, 12), (5, 20), (6, 31), (7, 33), (8, 54), (9, 70), (10, 78), (11, 84),
               (12, 105), (13, 83), (14, 53), (15, 69), (16, 59), (17, 37), (18, 40), (19, 37), (20, 24), (21, 21),
               (22, 17), (23, 13), (24, 7), (25, 4), (26, 4), (27, 9), (28, 3), (29, 3), (30, 1), (32, 7), (34, 1),
               (38, 1), (39, 1))
"""(words of a row's title, rows), 2022-06 sample."""

OLD_YEARS = ((1986, 1), (1991, 1), (1998, 1), (1999, 1), (2000, 1), (2002, 1), (2003, 1), (2004, 4), (2005, 2),
             (2006, 1), (2007, 1), (2008, 5), (2009, 3), (2010, 4), (2011, 7), (2012, 4), (2013, 7), (2014, 4),
             (2015, 5), (2016, 6), (2017, 8), (2018, 7))
"""(publication year before 2019, rows), 2022-06 sample: 83 rows of 1,000."""

# Facts of the bioRxiv/medRxiv PDF parses (2020-03-13) that set per-entry rates of the generator.
PARSE_AUTHORLESS = 0.003        # PDF parses that lose the authors a paper has (with the 1.5% of papers
                                # without authors: the real 2.4% of parses without any)
AFFILIATED = 0.70               # author entries of a parse with an institution
BIB_YEAR_MISSING = 0.17         # PDF bibliography entries without a year
BIB_VENUE_EMPTY = 0.24          # PDF bibliography entries without a venue
BIB_DOI_PREPRINT_PDF = 0.18     # PDF bibliography entries of preprints with a DOI
# From the seven parses of fixtures/parses (journal PDFs and a PMC parse): journals' PDF parses
# carry a DOI in about half of their entries (0 to 70%), PMC parses in nearly all (96%).
BIB_DOI_JOURNAL_PDF = 0.50
BIB_DOI_PMC = 0.93
# allenai/cord19 issue 3 (2020-11): 322,441 rows for 308,694 cord_uids: 4.4% of rows repeat a
# cord_uid (the same paper sent by two sources; the FAQ's example, hox2xwjg, is an Elsevier row
# and a PMC row).
DUPLICATE_UID_ROWS = 0.044
# subset-2020-04: 26 preprint titles (of 1,171 preprints, 4,400 rows) are also the title of a
# journal row with its own cord_uid and DOI (the preprint and its published version): 5.9 pairs
# per 1,000 rows.
TWIN_PAIRS_PER_ROW = 0.0059
# subset-2020-04: rows sharing a generic title ("Department of Error" seven times, "Feedback",
# "Correction", "Letters", "Editorial board and contents", ...): 24 of 4,400.
GENERIC_TITLES = 0.0055


@dataclass(frozen=True)
class Profile:
    weight: int
    sources: str
    license: str
    flags: str
    n_sha: int
    date_length: int
    year: str  # "2019".."2022", "old" or "-"

    def has(self, flag: str) -> bool:
        return flag in self.flags

    @property
    def preprint(self) -> bool:
        return any(s in self.sources for s in ("MedRxiv", "BioRxiv", "ArXiv"))


@functools.lru_cache(maxsize=1)
def profiles() -> tuple[Profile, ...]:
    out = []
    for line in ROW_PROFILES.strip().splitlines():
        count, sources, lic, flags, n_sha, date_length, year = line.split("|")
        out.append(Profile(int(count), sources, lic, flags, int(n_sha), int(date_length), year))
    return tuple(out)


def from_quantiles(u: float, table: tuple) -> float:
    """The value at probability ``u`` of a distribution given by evenly spaced quantiles."""
    x = u * (len(table) - 1)
    k = min(int(x), len(table) - 2)
    return table[k] + (table[k + 1] - table[k]) * (x - k)
