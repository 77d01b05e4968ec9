"""Word lists and templates shared by the corpus generators (all text is written from these).

Topics carry the seed words of ckg's topic model (``etl/data/topics.toml``) and concept names of
the bundled vocabulary (``etl/vocab/data/``), so concept extraction and topics find real signal
in generated text. The tables up to :data:`DEPARTMENTS` are the demo corpus's
(:mod:`ckg.corpusgen.small`); changing them changes the demo corpus, which many tests pin.
"""

from __future__ import annotations

COLUMNS = (
    "cord_uid", "sha", "source_x", "title", "doi", "pmcid", "pubmed_id", "license", "abstract",
    "publish_time", "authors", "journal", "mag_id", "who_covidence_id", "arxiv_id",
    "pdf_json_files", "pmc_json_files", "url", "s2_id",
)

# --------------------------------------------------------------------------------------------
# Topics, vocabulary and templates
# --------------------------------------------------------------------------------------------

TOPICS = (
    {"label": "virology",
     "seed_words": ["viral replication", "viral entry", "host cells", "receptor binding",
                    "membrane fusion", "cell culture", "viral load", "protease activity",
                    "virion assembly", "cytopathic effect"],
     "concepts": ["SARS-CoV-2", "coronavirus", "spike protein", "ACE2",
                  "angiotensin-converting enzyme 2", "transmembrane protease serine 2",
                  "receptor-binding domain", "RNA-dependent RNA polymerase", "main protease",
                  "Vero E6 cells", "MERS-CoV", "influenza"]},
    {"label": "epidemiology",
     "seed_words": ["incidence", "mortality", "case fatality", "risk factors", "surveillance",
                    "prevalence", "hospital admissions", "excess deaths", "seroprevalence"],
     "concepts": ["COVID-19", "hypertension", "diabetes mellitus", "obesity",
                  "chronic obstructive pulmonary disease", "cardiovascular disease",
                  "chronic kidney disease", "smoking", "influenza", "pneumonia", "asthma",
                  "older age"]},
    {"label": "genomics",
     "seed_words": ["genome sequencing", "phylogenetic analysis", "mutations", "lineages",
                    "variants", "sequence diversity", "recombination", "evolutionary rate",
                    "genomic surveillance"],
     "concepts": ["SARS-CoV-2", "whole-genome sequencing", "single nucleotide polymorphism",
                  "spike protein", "D614G", "Omicron variant", "Delta variant",
                  "open reading frame", "RNA", "nucleocapsid protein", "bat coronavirus",
                  "phylogeny"]},
    {"label": "clinical care",
     "seed_words": ["hospitalised patients", "clinical outcomes", "disease severity",
                    "oxygen therapy", "length of stay", "respiratory failure", "clinical course",
                    "critical illness", "mechanical ventilation"],
     "concepts": ["acute respiratory distress syndrome", "pneumonia", "intensive care unit",
                  "ventilator", "fever", "cough", "dyspnea", "lung", "acute kidney injury",
                  "thrombosis", "D-dimer", "extracorporeal membrane oxygenation", "sepsis"]},
    {"label": "diagnostics",
     "seed_words": ["diagnostic accuracy", "sensitivity", "specificity", "test performance",
                    "sample collection", "screening", "detection limits", "false negatives",
                    "point-of-care testing"],
     "concepts": ["polymerase chain reaction", "reverse transcription polymerase chain reaction",
                  "antigen test", "nasopharyngeal swab", "saliva", "computed tomography",
                  "chest radiography", "enzyme-linked immunosorbent assay", "IgG", "IgM",
                  "lateral flow assay", "SARS-CoV-2"]},
    {"label": "vaccines and immunology",
     "seed_words": ["immune response", "antibody titres", "T cell responses", "vaccine efficacy",
                    "immunogenicity", "booster doses", "humoral immunity", "adverse events",
                    "breakthrough infections"],
     "concepts": ["mRNA vaccine", "neutralizing antibodies", "spike protein", "interleukin-6",
                  "cytokine storm", "T cells", "B cells", "interferon", "adenovirus vector",
                  "myocarditis", "IgG", "receptor-binding domain"]},
    {"label": "drugs and treatment",
     "seed_words": ["treatment", "clinical trials", "drug repurposing", "dosage", "efficacy",
                    "antiviral therapy", "recovery time", "safety profile", "mortality benefit"],
     "concepts": ["hydroxychloroquine", "remdesivir", "dexamethasone", "tocilizumab",
                  "lopinavir", "ritonavir", "ivermectin", "favipiravir", "convalescent plasma",
                  "corticosteroids", "interleukin-6", "heparin", "azithromycin"]},
    {"label": "public health and policy",
     "seed_words": ["public health measures", "policy", "health systems", "vaccination coverage",
                    "school closures", "contact tracing", "health equity", "risk communication",
                    "testing strategy"],
     "concepts": ["lockdown", "social distancing", "face masks", "quarantine",
                  "non-pharmaceutical interventions", "travel restrictions",
                  "personal protective equipment", "COVID-19", "vaccine hesitancy",
                  "misinformation", "health care workers"]},
    {"label": "transmission and modelling",
     "seed_words": ["transmission dynamics", "epidemic growth", "contact patterns",
                    "mathematical models", "forecasting", "incubation period", "serial interval",
                    "superspreading events", "mobility data"],
     "concepts": ["basic reproduction number", "effective reproduction number", "SEIR model",
                  "aerosols", "droplets", "asymptomatic infection", "household transmission",
                  "herd immunity", "lockdown", "ventilation", "COVID-19"]},
    {"label": "mental health",
     "seed_words": ["psychological distress", "wellbeing", "loneliness", "sleep quality",
                    "social isolation", "resilience", "coping strategies", "mental health services",
                    "quality of life"],
     "concepts": ["anxiety", "depression", "post-traumatic stress disorder", "insomnia",
                  "burnout", "suicidal ideation", "substance use", "stress", "lockdown",
                  "health care workers", "COVID-19", "fear"]},
)

ABBREVIATIONS = {
    "acute respiratory distress syndrome": "ARDS", "angiotensin-converting enzyme 2": "ACE2",
    "transmembrane protease serine 2": "TMPRSS2", "receptor-binding domain": "RBD",
    "RNA-dependent RNA polymerase": "RdRp", "chronic obstructive pulmonary disease": "COPD",
    "whole-genome sequencing": "WGS", "single nucleotide polymorphism": "SNP",
    "open reading frame": "ORF", "intensive care unit": "ICU",
    "extracorporeal membrane oxygenation": "ECMO", "polymerase chain reaction": "PCR",
    "reverse transcription polymerase chain reaction": "RT-PCR", "computed tomography": "CT",
    "enzyme-linked immunosorbent assay": "ELISA", "interleukin-6": "IL-6",
    "non-pharmaceutical interventions": "NPIs", "personal protective equipment": "PPE",
    "basic reproduction number": "R0", "effective reproduction number": "Rt",
    "post-traumatic stress disorder": "PTSD", "acute kidney injury": "AKI",
}
PANDEMIC_ONLY = {"COVID-19", "SARS-CoV-2", "Omicron variant", "Delta variant", "D614G", "lockdown"}

TITLE_TEMPLATES = (
    "{c} and {w} in {population}: a {design}",
    "The role of {c} in {w} during {outbreak}",
    "{w} and {c} among {population} in {place}",
    "Association between {c} and {c2} in {population}",
    "{c} as a determinant of {w}: evidence from {place}",
    "Changes in {w} after {c}: a {design}",
    "{c}, {c2} and {w}: a {design}",
    "Assessing {w} in {population} in relation to {c}",
    "Patterns of {c} and {w} in {place}, {year}",
    "What drives {w}? Insights from {c} in {population}",
)
INTRO = (
    "Since the first reports from {place}, research on {c} expanded rapidly alongside work on {w}.",
    "Previous studies linked {c} to {w}, but the size of the effect remained uncertain.",
    "Little is known about how {c} may relate to {c2} in the context of {w}.",
    "The relationship between {w} and {c} has been described in several settings.",
    "Understanding {w} is essential for interpreting reports of {c} during {outbreak}.",
    "Several groups proposed that {c} might contribute to {w} in {population}.",
    "Reliable estimates of {w} are needed to guide decisions about {c}.",
    "Earlier work on {c2} suggested a similar mechanism for {c}.",
)
METHODS = (
    "We conducted a {design} of {n} participants recruited in {place} between {period}.",
    "Data on {c} and {w} were collected with a standardised protocol.",
    "The primary outcome was {c}, and secondary outcomes included {c2} and {w}.",
    "We used multivariable regression to estimate the association between {w} and {c}.",
    "Participants were classified according to {c} and {c2} at enrolment.",
    "Sensitivity analyses excluded participants with missing data on {w}.",
    "All analyses were adjusted for age, sex and {c2}.",
)
RESULTS = (
    "Of the {n} participants, {p}% showed evidence of {c}.",
    "{c} correlated with {w} (odds ratio {or_}, 95% CI {lo}-{hi}).",
    "We found a stronger link between {c} and {w} in {population}.",
    "{w} differed markedly between groups, particularly with respect to {c}.",
    "The median follow-up for {w} was {d} days.",
    "No significant association was found between {c2} and {w}.",
    "Overall, {p}% of {population} reported changes in {w}.",
)
DISCUSSION = (
    "Our findings suggest that {c} may play an important role in {w}.",
    "These results are consistent with earlier reports on {c} and {c2}.",
    "The link between {w} and {c} deserves further study in larger cohorts.",
    "A limitation of this study is the small number of participants with data on {c2}.",
    "Taken together, the data support closer monitoring of {c} in {population}.",
    "Future work should clarify how {w} modifies the effect of {c}.",
    "In conclusion, {c} should be considered when planning responses to {outbreak}.",
)
SECTIONS = (("Introduction", INTRO), ("Methods", METHODS), ("Results", RESULTS),
             ("Discussion", DISCUSSION))
PMC_METHOD_HEADINGS = ("Study design and participants", "Data collection",
                        "Laboratory procedures", "Statistical analysis")
DESIGNS = ("retrospective cohort study", "prospective cohort study", "cross-sectional study",
            "systematic review and meta-analysis", "case series", "modelling study",
            "randomised controlled trial", "multicentre observational study", "narrative review",
            "population-based survey")
POPULATIONS = ("hospitalised patients", "health care workers", "children", "older adults",
                "pregnant women", "university students", "outpatients", "nursing home residents",
                "the general population", "people living with HIV")
PLACES = ("Wuhan", "Lombardy", "New York City", "São Paulo", "Madrid", "Seoul", "London",
           "Cape Town", "Tehran", "Mumbai", "Stockholm", "Lagos", "Melbourne", "Toronto", "Paris",
           "Jeddah", "Hong Kong", "Bavaria", "Québec", "Istanbul")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
JOURNALS = ("J Med Virol", "Lancet Infect Dis", "BMJ Open", "PLoS One", "Sci Rep",
             "Front Immunol", "Vaccine", "Emerg Infect Dis", "Clin Infect Dis", "Nat Commun",
             "Virol J", "J Infect", "Int J Environ Res Public Health", "Front Psychiatry",
             "Epidemiol Infect", "Viruses", "Crit Care", "J Clin Virol", "Euro Surveill")
# (source_x, license, weight); preprint sources only from 2020 on.
SOURCES = (("PMC", "cc-by", 20), ("PMC", "cc-by-nc", 8), ("PMC", "no-cc", 8),
            ("Elsevier; PMC", "els-covid", 12), ("Elsevier", "els-covid", 6),
            ("PMC; WHO", "cc-by", 8), ("WHO", "no-cc", 5), ("MedLine", "no-cc", 6),
            ("MedLine; PMC; WHO", "cc-by", 5), ("medrxiv", "medrxiv", 8),
            ("biorxiv", "biorxiv", 4), ("medrxiv; WHO", "medrxiv", 3))

# Name cultures: (given names, family names). Family names keep their particles and hyphens.
NAMES = (
    (("José", "María", "Lucía", "Mateo", "Carmen", "Javier", "Inés"),
     ("Núñez", "García-López", "Fernández", "de la Cruz", "Martínez", "Ruiz-Peña", "Ortega")),
    (("Zoë", "Jürgen", "Anke", "Lukas", "Käthe", "Felix", "Henrike"),
     ("Müller", "Schäfer", "von Richter", "Weiß", "Becker", "Hoffmann-Kühn", "Braun")),
    (("Anneke", "Joost", "Sanne", "Pieter", "Femke", "Bram"),
     ("van der Berg", "de Vries", "van den Heuvel", "Jansen", "Bakker", "van Dijk")),
    (("Wei", "Li", "Xiaoming", "Jing", "Hao", "Yan", "Jianguo", "Mei"),
     ("Zhang", "Wang", "Liu", "Chen", "Huang", "Zhou", "Xu", "Sun")),
    (("Hiroshi", "Yuki", "Akiko", "Kenji", "Sakura"),
     ("Tanaka", "Suzuki", "Watanabe", "Kobayashi", "Sato")),
    (("Min-jun", "Ji-woo", "Seo-yeon", "Dong-hyun", "Hye-jin"),
     ("Kim", "Park", "Lee", "Choi", "Jung")),
    (("Olusegun", "Ngozi", "Chinedu", "Adaeze", "Kwame", "Abena"),
     ("Okafor", "Adeyemi", "Mensah", "Eze", "Boateng", "Okonkwo-Bello")),
    (("Priya", "Rahul", "Ananya", "Vikram", "Lakshmi", "Arjun"),
     ("Sharma", "Patel", "Iyer", "Reddy", "Singh", "Banerjee")),
    (("Søren", "Ingrid", "Anders", "Åsa", "Björn", "Sigrid"),
     ("Jørgensen", "Andersson", "Björk", "Lindqvist", "Ødegaard", "Hansen")),
    (("Łukasz", "Katarzyna", "Agnieszka", "Piotr", "Małgorzata"),
     ("Kowalski", "Wiśniewska", "Nowak", "Zieliński", "Kamińska")),
    (("Chloé", "François", "Hélène", "Étienne", "Amélie"),
     ("Dubois", "Lefèvre", "Moreau", "Le Roux", "Girard-Dumas")),
    (("Giulia", "Marco", "Francesca", "Alessandro", "Chiara"),
     ("Rossi", "Bianchi", "D'Angelo", "Esposito", "Colombo")),
    (("Mehmet", "Ayşe", "Emre", "Zeynep"), ("Yılmaz", "Çelik", "Demir", "Öztürk")),
    (("Fatima", "Omar", "Ahmed", "Layla", "Yousef"),
     ("Al-Hashimi", "Haddad", "Al-Ghamdi", "El-Sayed", "Nasser")),
    (("Sarah", "James", "Emily", "Michael", "Rebecca", "Thomas", "Grace"),
     ("Smith-Jones", "O'Brien", "MacDonald", "Thompson", "Walker", "Harris", "Bennett")),
    (("João", "Ana", "Rafael", "Beatriz", "Thiago"),
     ("da Silva", "dos Santos", "Costa", "Pereira", "Albuquerque")),
)
FIXED_PEOPLE = (("José", "Núñez"), ("Zoë", "Müller"), ("Anneke", "van der Berg"),
                 ("María", "García-López"), ("Wei", "Zhang"))

# (institution, settlement, region, country key)
INSTITUTIONS = (
    ("Northgate University School of Medicine", "Boston", "MA", "US"),
    ("Lakeshore Children's Hospital", "Chicago", "IL", "US"),
    ("Pacific Institute for Infectious Disease Research", "Seattle", "WA", "US"),
    ("Midwest Academic Medical Center", "Minneapolis", "MN", "US"),
    ("Thames Valley University Hospital", "Oxford", "England", "GB"),
    ("Edinburgh Institute of Respiratory Medicine", "Edinburgh", "Scotland", "GB"),
    ("Yangtze Medical University", "Wuhan", "Hubei", "CN"),
    ("Pearl River Centre for Disease Control", "Guangzhou", "Guangdong", "CN"),
    ("Beijing Institute of Respiratory Virology", "Beijing", "", "CN"),
    ("Rhineland University Hospital", "Cologne", "North Rhine-Westphalia", "DE"),
    ("Bavarian Institute for Public Health", "Munich", "Bavaria", "DE"),
    ("Utrecht Centre for Infection and Immunity", "Utrecht", "", "NL"),
    ("Han River University College of Medicine", "Seoul", "", "KR"),
    ("Hospital Universitario del Sur", "Madrid", "Comunidad de Madrid", "ES"),
    ("Istituto Lombardo di Malattie Infettive", "Milan", "Lombardy", "IT"),
    ("Universidade Federal do Planalto", "São Paulo", "SP", "BR"),
    ("Institute of Translational Medicine Delhi", "New Delhi", "Delhi", "IN"),
    ("Lagos Lagoon Teaching Hospital", "Lagos", "Lagos State", "NG"),
    ("Cape Peninsula Institute of Health Sciences", "Cape Town", "Western Cape", "ZA"),
    ("Uppsala Centre for Epidemic Research", "Uppsala", "", "SE"),
    ("Kansai Institute of Virology", "Osaka", "", "JP"),
    ("Institut des Maladies Émergentes", "Lyon", "Auvergne-Rhône-Alpes", "FR"),
    ("Laurentian Institute of Population Health", "Montréal", "Québec", "CA"),
    ("Southern Cross Medical Research Institute", "Melbourne", "Victoria", "AU"),
    ("Red Sea University Hospital", "Jeddah", "Makkah", "SA"),
    ("Alpine Institute of Immunology", "Zürich", "", "CH"),
    ("Bosphorus University Faculty of Medicine", "Istanbul", "", "TR"),
    ("Caspian Institute of Medical Sciences", "Tehran", "", "IR"),
)
COUNTRY_SPELLINGS = {
    "US": ("USA", "United States", "United States of America"), "GB": ("UK", "United Kingdom"),
    "CN": ("China", "P.R. China", "People's Republic of China"), "DE": ("Germany", "Deutschland"),
    "NL": ("The Netherlands", "Netherlands"), "KR": ("Republic of Korea", "South Korea", "Korea"),
    "ES": ("Spain",), "IT": ("Italy",), "BR": ("Brazil",), "IN": ("India",), "NG": ("Nigeria",),
    "ZA": ("South Africa",), "SE": ("Sweden",), "JP": ("Japan",), "FR": ("France",),
    "CA": ("Canada",), "AU": ("Australia",), "SA": ("Saudi Arabia", "Kingdom of Saudi Arabia"),
    "CH": ("Switzerland",), "TR": ("Turkey",), "IR": ("Iran",),
}
DEPARTMENTS = ("Department of Microbiology", "Department of Epidemiology",
                "Laboratory of Genomic Epidemiology", "Department of Internal Medicine",
                "Diagnostic Virology Laboratory", "Laboratory of Viral Immunology",
                "Department of Clinical Pharmacology", "School of Public Health",
                "Centre for Mathematical Modelling", "Department of Psychiatry")
