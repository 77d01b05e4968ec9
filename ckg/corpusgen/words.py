"""Word lists of the scale generator: names, places, institutions, journals, title and sentence
templates. Everything is invented or generic (no text comes from CORD-19); the lists are long
enough, or combined from parts, that a million papers get about as many distinct author names,
institutions and journals as CORD-19 has, with a few very common ones (Wang, Zhang, PLoS One).

>>> len(CULTURES) >= 12 and all(len(c.given) >= 20 and len(c.family) >= 20 for c in CULTURES)
True
"""

from __future__ import annotations

from dataclasses import dataclass

from ckg.corpusgen import vocab


@dataclass(frozen=True)
class Culture:
    name: str
    weight: float          # share of author names
    given: tuple           # common given names (Zipf head)
    family: tuple          # common family names (Zipf head)
    syllables: tuple       # parts that make rarer names (the long tail)
    family_endings: tuple  # endings that make rarer family names
    countries: tuple       # countries of its institutions, most likely first


CULTURES = (
    Culture("chinese", 0.24,
            ("Wei", "Li", "Jing", "Hao", "Yan", "Mei", "Jun", "Lei", "Xin", "Yu", "Ying", "Hui", "Jie", "Tao",
             "Qiang", "Min", "Ping", "Lin", "Fang", "Hong", "Bo", "Chen", "Dan", "Feng", "Gang", "Hua", "Jian",
             "Kai", "Lu", "Na", "Peng", "Rui", "Shan", "Ting", "Xia", "Yang", "Yi", "Yun", "Zhen", "Zhi"),
            ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma", "Zhu",
             "Hu", "Guo", "He", "Lin", "Gao", "Luo", "Zheng", "Liang", "Xie", "Song", "Tang", "Han", "Feng", "Deng",
             "Cao", "Peng", "Zeng", "Xiao", "Tian", "Dong", "Pan", "Yuan", "Cai", "Jiang", "Yu", "Du", "Ye", "Cheng",
             "Wei", "Su", "Lu", "Ding", "Ren", "Shen", "Yao", "Fan"),
            ("xiao", "ming", "hua", "jun", "wen", "qing", "li", "yu", "zhi", "hong", "jian", "guo", "ling", "yan",
             "fei", "hai", "chun", "xue", "long", "ning", "shu", "tian", "xiang", "yong", "zhong", "mei", "rong",
             "bin", "cheng", "dong", "kun", "lan", "peng", "qian", "sheng", "ting", "wei", "xin", "yi", "zhen"),
            ("", ), ("CN", "CN", "CN", "HK", "TW", "SG", "US")),
    Culture("anglo", 0.16,
            ("James", "Sarah", "Michael", "Emily", "David", "Rebecca", "John", "Laura", "Robert", "Jennifer",
             "Thomas", "Grace", "William", "Hannah", "Richard", "Rachel", "Daniel", "Emma", "Matthew", "Claire",
             "Andrew", "Katherine", "Christopher", "Megan", "Peter", "Alice", "Mark", "Lucy", "Paul", "Helen",
             "Benjamin", "Amy", "Jonathan", "Sophie", "Samuel", "Olivia", "Nicholas", "Charlotte", "Joseph", "Anna"),
            ("Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor",
             "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris", "Clark", "Lewis", "Walker",
             "Hall", "Allen", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Hill",
             "Campbell", "Mitchell", "Roberts", "Carter", "Phillips", "Evans", "Turner", "Parker", "Collins",
             "Edwards", "Stewart", "Morris", "Murphy", "Cook", "Rogers", "Morgan", "Cooper", "Peterson", "Reed",
             "O'Brien", "MacDonald", "Smith-Jones", "Bennett", "Hughes", "Price"),
            ("Ash", "Brad", "Craw", "Dun", "Fair", "Hart", "Kings", "Lang", "Mar", "Nor", "Pem", "Rad", "Stan",
             "Thorn", "Wake", "Whit", "Ald", "Blan", "Cald", "Ell", "Gar", "Hal", "Mel", "Ox", "Sel", "Wal"),
            ("ford", "ley", "ton", "well", "wood", "field", "combe", "ham", "by", "more", "worth", "den", "sby",
             "hurst", "ridge", "brook"),
            ("US", "US", "US", "GB", "GB", "CA", "AU", "IE", "NZ")),
    Culture("hispanic", 0.08,
            ("José", "María", "Lucía", "Mateo", "Carmen", "Javier", "Inés", "Carlos", "Ana", "Luis", "Sofía",
             "Miguel", "Isabel", "Diego", "Elena", "Pablo", "Laura", "Alejandro", "Marta", "Fernando", "Paula",
             "Jorge", "Cristina", "Andrés", "Beatriz", "Raúl", "Pilar", "Sergio", "Rocío", "Manuel"),
            ("García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez", "Gómez",
             "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz", "Álvarez", "Romero", "Alonso",
             "Gutiérrez", "Navarro", "Torres", "Domínguez", "Vázquez", "Ramos", "Núñez", "de la Cruz",
             "García-López", "Ruiz-Peña", "Ortega", "Castillo", "Morales", "Herrera", "Medina", "Aguilar"),
            ("Alc", "Bel", "Cal", "Ech", "Est", "Gal", "Ib", "Lar", "Mend", "Olm", "Pard", "Quint", "Sal", "Tor",
             "Ur", "Val", "Zam", "Arr", "Berr", "Carr"),
            ("ez", "era", "ado", "ero", "illa", "ano", "ares", "iaga", "ales", "uela", "ón", "osa"),
            ("ES", "ES", "MX", "AR", "CO", "CL", "PE", "US", "BR")),
    Culture("german", 0.06,
            ("Jürgen", "Anke", "Lukas", "Käthe", "Felix", "Henrike", "Stefan", "Katrin", "Matthias", "Sabine",
             "Andreas", "Julia", "Thomas", "Claudia", "Markus", "Petra", "Tobias", "Susanne", "Florian", "Birgit",
             "Jan", "Lena", "Sebastian", "Miriam", "Christoph", "Ulrike", "Moritz", "Jana", "Zoë", "Klaus"),
            ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
             "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz",
             "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Weiß", "von Richter",
             "Hoffmann-Kühn", "Vogel", "Friedrich"),
            ("Al", "Bren", "Dorn", "Eich", "Frei", "Grün", "Hell", "Kirch", "Lind", "Mahl", "Rein", "Stein", "Stern",
             "Wald", "Wein", "Zell", "Rosen", "Bach", "Berg", "Brock"),
            ("mann", "er", "berger", "hofer", "meier", "ler", "dorf", "inger", "hausen", "feld", "baum", "bach"),
            ("DE", "DE", "DE", "AT", "CH", "NL", "US")),
    Culture("french", 0.04,
            ("Chloé", "François", "Hélène", "Étienne", "Amélie", "Julien", "Camille", "Nicolas", "Claire",
             "Mathieu", "Sophie", "Olivier", "Céline", "Antoine", "Aurélie", "Pierre", "Élodie", "Guillaume",
             "Manon", "Benoît", "Marion", "Sébastien", "Anaïs", "Thibault"),
            ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
             "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier",
             "Morel", "Girard", "André", "Le Roux", "Girard-Dumas", "Mercier", "Bonnet", "Dupont", "Lambert"),
            ("Beau", "Cham", "Dela", "Four", "Gail", "Lab", "Mont", "Roch", "Vill", "Chev", "Bour", "Mar"),
            ("ier", "eau", "ard", "ot", "elle", "ois", "in", "et", "ault", "ès"),
            ("FR", "FR", "FR", "BE", "CA", "CH")),
    Culture("italian", 0.05,
            ("Giulia", "Marco", "Francesca", "Alessandro", "Chiara", "Luca", "Sara", "Matteo", "Valentina",
             "Andrea", "Elena", "Davide", "Federica", "Simone", "Martina", "Giuseppe", "Silvia", "Stefano",
             "Paola", "Roberto", "Laura", "Antonio", "Elisa", "Lorenzo"),
            ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco",
             "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano", "Rizzo", "Lombardi", "Moretti",
             "D'Angelo", "Barbieri", "Fontana", "Santoro", "Mariani", "Rinaldi", "Caruso", "Ferrara", "Galli"),
            ("Bel", "Cap", "Fer", "Gen", "Lan", "Mar", "Pel", "Sal", "Ter", "Vit", "Cav", "Bor", "Mon", "Pag"),
            ("ini", "etti", "ello", "ari", "ucci", "one", "elli", "ano", "otti", "izzi"),
            ("IT", "IT", "IT", "CH", "US")),
    Culture("dutch-nordic", 0.04,
            ("Anneke", "Joost", "Sanne", "Pieter", "Femke", "Bram", "Søren", "Ingrid", "Anders", "Åsa", "Björn",
             "Sigrid", "Lars", "Karin", "Erik", "Maria", "Jesper", "Linnea", "Mikko", "Aino", "Henrik", "Marit"),
            ("van der Berg", "de Vries", "van den Heuvel", "Jansen", "Bakker", "van Dijk", "Visser", "Smit",
             "Jørgensen", "Andersson", "Björk", "Lindqvist", "Ødegaard", "Hansen", "Johansson", "Nielsen",
             "Larsen", "Karlsson", "Nilsson", "Eriksson", "Virtanen", "Korhonen", "Berg", "Dahl"),
            ("Ber", "Dal", "Holm", "Lund", "Sand", "Strand", "Vik", "Hol", "Eng", "Sjö", "Kor", "Mäk"),
            ("gren", "ström", "berg", "qvist", "sen", "lund", "stad", "inen", "dal", "man"),
            ("NL", "SE", "DK", "NO", "FI", "BE")),
    Culture("korean-japanese", 0.06,
            ("Min-jun", "Ji-woo", "Seo-yeon", "Dong-hyun", "Hye-jin", "Hiroshi", "Yuki", "Akiko", "Kenji",
             "Sakura", "Takashi", "Naoko", "Satoshi", "Yumi", "Jae-won", "Soo-jin", "Hyun-woo", "Eun-ji",
             "Kazuo", "Mariko", "Daisuke", "Tomoko"),
            ("Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon", "Jang", "Lim", "Tanaka", "Suzuki",
             "Watanabe", "Kobayashi", "Sato", "Takahashi", "Ito", "Yamamoto", "Nakamura", "Kato", "Yoshida",
             "Yamada", "Sasaki", "Matsumoto", "Inoue"),
            ("Aka", "Fuji", "Hara", "Ishi", "Kawa", "Kita", "Mori", "Naka", "Oka", "Sakai", "Taka", "Ueda", "Yoshi"),
            ("moto", "yama", "shita", "kawa", "mura", "ta", "no", "saki", "hara", "oka"),
            ("KR", "KR", "JP", "JP", "US")),
    Culture("indian", 0.07,
            ("Priya", "Rahul", "Ananya", "Vikram", "Lakshmi", "Arjun", "Deepa", "Sanjay", "Kavita", "Amit",
             "Neha", "Rajesh", "Pooja", "Suresh", "Divya", "Arun", "Meera", "Anil", "Sunita", "Ravi", "Shreya",
             "Manoj", "Nisha", "Karthik"),
            ("Sharma", "Patel", "Iyer", "Reddy", "Singh", "Banerjee", "Kumar", "Gupta", "Shah", "Mehta", "Das",
             "Rao", "Nair", "Joshi", "Mishra", "Agarwal", "Chatterjee", "Mukherjee", "Verma", "Pillai", "Menon",
             "Bhat", "Desai", "Kulkarni", "Saxena"),
            ("Anan", "Bhar", "Chan", "Dhar", "Gan", "Har", "Kris", "Mahe", "Nara", "Prak", "Ram", "Srini", "Venk"),
            ("dran", "swamy", "nathan", "murthy", "kar", "wal", "appa", "esh", "rajan", "avan"),
            ("IN", "IN", "IN", "US", "GB")),
    Culture("arabic-persian-turkish", 0.06,
            ("Fatima", "Omar", "Ahmed", "Layla", "Yousef", "Mehmet", "Ayşe", "Emre", "Zeynep", "Ali", "Maryam",
             "Hassan", "Reza", "Sara", "Mohammad", "Nour", "Khalid", "Leila", "Mustafa", "Elif", "Amir", "Hana"),
            ("Al-Hashimi", "Haddad", "Al-Ghamdi", "El-Sayed", "Nasser", "Yılmaz", "Çelik", "Demir", "Öztürk",
             "Kaya", "Hosseini", "Mohammadi", "Ahmadi", "Rezaei", "Karimi", "Hussain", "Khan", "Abdullah",
             "Al-Qahtani", "Mansour", "Aydın", "Şahin", "Rahimi", "Farahani"),
            ("Abd", "Bah", "Far", "Hab", "Jaf", "Kham", "Mah", "Nas", "Sal", "Tah", "Zad", "Kar", "Sul"),
            ("ani", "ari", "oud", "avi", "ian", "zadeh", "ullah", "oğlu", "ipour", "iri"),
            ("SA", "IR", "TR", "EG", "AE", "QA", "JO", "PK")),
    Culture("african", 0.03,
            ("Olusegun", "Ngozi", "Chinedu", "Adaeze", "Kwame", "Abena", "Tendai", "Thabo", "Amina", "Kofi",
             "Nia", "Babajide", "Zanele", "Sipho", "Wanjiru", "Kamau", "Fatoumata", "Moussa", "Chiamaka",
             "Oluwaseun"),
            ("Okafor", "Adeyemi", "Mensah", "Eze", "Boateng", "Okonkwo-Bello", "Nkosi", "Dlamini", "Mwangi",
             "Ochieng", "Diallo", "Traoré", "Abubakar", "Bello", "Owusu", "Asante", "Banda", "Moyo", "Kamara",
             "Ndlovu"),
            ("Ade", "Bam", "Chi", "Ife", "Kel", "Mba", "Ndu", "Olu", "Tun", "Uche", "Wan"),
            ("ola", "emi", "ike", "wale", "nna", "uwa", "eke", "ani"),
            ("NG", "ZA", "KE", "GH", "ET", "UG", "SN")),
    Culture("lusophone-slavic", 0.05,
            ("João", "Ana", "Rafael", "Beatriz", "Thiago", "Łukasz", "Katarzyna", "Agnieszka", "Piotr",
             "Małgorzata", "Ivan", "Olga", "Dmitri", "Natalia", "Pavel", "Marek", "Jana", "Tomáš", "Fernanda",
             "Gustavo", "Camila", "Bruno"),
            ("da Silva", "dos Santos", "Costa", "Pereira", "Albuquerque", "Oliveira", "Souza", "Lima", "Ferreira",
             "Kowalski", "Wiśniewska", "Nowak", "Zieliński", "Kamińska", "Ivanov", "Petrova", "Smirnov",
             "Novák", "Horváth", "Popescu", "Kovačević", "Rodrigues", "Carvalho", "Almeida"),
            ("Bor", "Dob", "Grab", "Kras", "Lew", "Mił", "Nov", "Pol", "Rad", "Sob", "Wol", "Zar"),
            ("owski", "ewicz", "enko", "ov", "ová", "ski", "iak", "escu", "ić", "eira"),
            ("BR", "BR", "PT", "PL", "RU", "CZ", "RO", "RS")),
)

# (country key, spellings in affiliations (first most common), cities (settlement, region))
COUNTRIES = {
    "US": (("USA", "United States", "United States of America", "U.S.A."),
           (("Boston", "MA"), ("New York", "NY"), ("Baltimore", "MD"), ("Seattle", "WA"), ("Atlanta", "GA"),
            ("Chicago", "IL"), ("Houston", "TX"), ("San Francisco", "CA"), ("Los Angeles", "CA"),
            ("Philadelphia", "PA"), ("Minneapolis", "MN"), ("Nashville", "TN"), ("Denver", "CO"),
            ("Ann Arbor", "MI"), ("Bethesda", "MD"), ("Cleveland", "OH"), ("St. Louis", "MO"), ("Durham", "NC"))),
    "CN": (("China", "P.R. China", "People's Republic of China", "PR China"),
           (("Wuhan", "Hubei"), ("Beijing", ""), ("Shanghai", ""), ("Guangzhou", "Guangdong"),
            ("Shenzhen", "Guangdong"), ("Hangzhou", "Zhejiang"), ("Chengdu", "Sichuan"), ("Nanjing", "Jiangsu"),
            ("Changsha", "Hunan"), ("Xi'an", "Shaanxi"), ("Chongqing", ""), ("Tianjin", ""), ("Jinan", "Shandong"))),
    "HK": (("Hong Kong", "Hong Kong SAR", "China"), (("Hong Kong", ""),)),
    "TW": (("Taiwan",), (("Taipei", ""), ("Tainan", ""))),
    "SG": (("Singapore",), (("Singapore", ""),)),
    "GB": (("UK", "United Kingdom", "U.K."),
           (("London", "England"), ("Oxford", "England"), ("Cambridge", "England"), ("Edinburgh", "Scotland"),
            ("Glasgow", "Scotland"), ("Manchester", "England"), ("Liverpool", "England"), ("Bristol", "England"),
            ("Cardiff", "Wales"), ("Birmingham", "England"))),
    "CA": (("Canada",), (("Toronto", "ON"), ("Montréal", "QC"), ("Vancouver", "BC"), ("Calgary", "AB"),
                         ("Ottawa", "ON"))),
    "AU": (("Australia",), (("Melbourne", "VIC"), ("Sydney", "NSW"), ("Brisbane", "QLD"), ("Perth", "WA"))),
    "IE": (("Ireland",), (("Dublin", ""), ("Cork", ""))),
    "NZ": (("New Zealand",), (("Auckland", ""), ("Wellington", ""))),
    "ES": (("Spain", "España"), (("Madrid", "Comunidad de Madrid"), ("Barcelona", "Catalonia"),
                                 ("Valencia", ""), ("Seville", "Andalusia"), ("Bilbao", ""))),
    "MX": (("Mexico", "México"), (("Mexico City", ""), ("Guadalajara", "Jalisco"), ("Monterrey", ""))),
    "AR": (("Argentina",), (("Buenos Aires", ""), ("Córdoba", ""))),
    "CO": (("Colombia",), (("Bogotá", ""), ("Medellín", ""))),
    "CL": (("Chile",), (("Santiago", ""),)),
    "PE": (("Peru", "Perú"), (("Lima", ""),)),
    "BR": (("Brazil", "Brasil"), (("São Paulo", "SP"), ("Rio de Janeiro", "RJ"), ("Belo Horizonte", "MG"),
                                  ("Porto Alegre", "RS"), ("Recife", "PE"), ("Salvador", "BA"))),
    "PT": (("Portugal",), (("Lisbon", ""), ("Porto", ""), ("Coimbra", ""))),
    "DE": (("Germany", "Deutschland"), (("Berlin", ""), ("Munich", "Bavaria"), ("Hamburg", ""),
                                        ("Heidelberg", "Baden-Württemberg"), ("Cologne", "North Rhine-Westphalia"),
                                        ("Frankfurt", "Hesse"), ("Hannover", "Lower Saxony"))),
    "AT": (("Austria",), (("Vienna", ""), ("Innsbruck", ""), ("Graz", ""))),
    "CH": (("Switzerland",), (("Zürich", ""), ("Geneva", ""), ("Basel", ""), ("Bern", ""), ("Lausanne", ""))),
    "NL": (("The Netherlands", "Netherlands"), (("Amsterdam", ""), ("Rotterdam", ""), ("Utrecht", ""),
                                                ("Leiden", ""), ("Nijmegen", ""))),
    "BE": (("Belgium",), (("Brussels", ""), ("Leuven", ""), ("Ghent", ""), ("Antwerp", ""))),
    "FR": (("France",), (("Paris", ""), ("Lyon", "Auvergne-Rhône-Alpes"), ("Marseille", ""), ("Lille", ""),
                         ("Bordeaux", ""), ("Toulouse", ""), ("Montpellier", ""), ("Strasbourg", ""))),
    "IT": (("Italy", "Italia"), (("Milan", "Lombardy"), ("Rome", "Lazio"), ("Bergamo", "Lombardy"),
                                 ("Naples", "Campania"), ("Turin", "Piedmont"), ("Bologna", "Emilia-Romagna"),
                                 ("Padua", "Veneto"), ("Florence", "Tuscany"), ("Pavia", "Lombardy"))),
    "SE": (("Sweden",), (("Stockholm", ""), ("Uppsala", ""), ("Gothenburg", ""), ("Lund", ""))),
    "DK": (("Denmark",), (("Copenhagen", ""), ("Aarhus", ""))),
    "NO": (("Norway",), (("Oslo", ""), ("Bergen", ""))),
    "FI": (("Finland",), (("Helsinki", ""), ("Tampere", ""))),
    "KR": (("Republic of Korea", "South Korea", "Korea"), (("Seoul", ""), ("Daegu", ""), ("Busan", ""))),
    "JP": (("Japan",), (("Tokyo", ""), ("Osaka", ""), ("Kyoto", ""), ("Nagoya", ""), ("Sapporo", ""))),
    "IN": (("India",), (("New Delhi", "Delhi"), ("Mumbai", "Maharashtra"), ("Chennai", "Tamil Nadu"),
                        ("Bengaluru", "Karnataka"), ("Kolkata", "West Bengal"), ("Pune", "Maharashtra"),
                        ("Hyderabad", "Telangana"), ("Vellore", "Tamil Nadu"))),
    "SA": (("Saudi Arabia", "Kingdom of Saudi Arabia"), (("Riyadh", ""), ("Jeddah", "Makkah"), ("Dammam", ""))),
    "IR": (("Iran", "Islamic Republic of Iran"), (("Tehran", ""), ("Shiraz", ""), ("Mashhad", ""), ("Tabriz", ""))),
    "TR": (("Turkey", "Türkiye"), (("Istanbul", ""), ("Ankara", ""), ("Izmir", ""))),
    "EG": (("Egypt",), (("Cairo", ""), ("Alexandria", ""))),
    "AE": (("United Arab Emirates", "UAE"), (("Abu Dhabi", ""), ("Dubai", ""))),
    "QA": (("Qatar",), (("Doha", ""),)),
    "JO": (("Jordan",), (("Amman", ""),)),
    "PK": (("Pakistan",), (("Karachi", ""), ("Lahore", ""), ("Islamabad", ""))),
    "NG": (("Nigeria",), (("Lagos", "Lagos State"), ("Ibadan", "Oyo State"), ("Abuja", ""))),
    "ZA": (("South Africa",), (("Cape Town", "Western Cape"), ("Johannesburg", "Gauteng"), ("Durban", ""))),
    "KE": (("Kenya",), (("Nairobi", ""), ("Kisumu", ""))),
    "GH": (("Ghana",), (("Accra", ""), ("Kumasi", ""))),
    "ET": (("Ethiopia",), (("Addis Ababa", ""),)),
    "UG": (("Uganda",), (("Kampala", ""),)),
    "SN": (("Senegal",), (("Dakar", ""),)),
    "PL": (("Poland",), (("Warsaw", ""), ("Kraków", ""), ("Poznań", ""), ("Wrocław", ""))),
    "RU": (("Russia", "Russian Federation"), (("Moscow", ""), ("Saint Petersburg", ""), ("Novosibirsk", ""))),
    "CZ": (("Czech Republic", "Czechia"), (("Prague", ""), ("Brno", ""))),
    "RO": (("Romania",), (("Bucharest", ""), ("Cluj-Napoca", ""))),
    "RS": (("Serbia",), (("Belgrade", ""), ("Novi Sad", ""))),
}

INSTITUTION_PATTERNS = (
    ("University of {city}", 6), ("{city} University", 3), ("{city} Medical University", 2),
    ("{city} University Hospital", 3), ("{city} General Hospital", 2), ("{city} Children's Hospital", 1),
    ("{city} Institute of {field}", 2), ("{city} Centre for {field}", 1), ("{city} Center for {field}", 1),
    ("{city} Public Health Agency", 1), ("{city} School of Medicine", 1), ("{adj} {city} University", 1),
    ("{adj} Hospital of {city}", 1), ("{city} Cancer Institute", 1), ("{city} Heart Institute", 1),
    ("{city} Veterinary College", 1), ("{city} Polytechnic", 1), ("National Institute of {field}", 1),
    ("{city} Clinical Research Center", 1), ("{adj} University of {city}", 1),
)
INSTITUTION_FIELDS = (
    "Infectious Diseases", "Virology", "Public Health", "Epidemiology", "Immunology", "Respiratory Medicine",
    "Tropical Medicine", "Global Health", "Microbiology", "Health Sciences", "Biomedical Research",
    "Pathogen Biology", "Medical Research", "Pharmaceutical Sciences", "Genomics", "Population Health",
    "Health Policy", "Mental Health", "Molecular Medicine", "Translational Medicine",
)
INSTITUTION_ADJECTIVES = ("First Affiliated", "Second Affiliated", "Central", "Northern", "Southern", "Eastern",
                          "Western", "Royal", "Federal", "State", "Catholic", "Technical", "Free", "Medical")
LABORATORIES = (
    "", "", "", "Department of Microbiology", "Department of Epidemiology", "Department of Medicine",
    "Department of Infectious Diseases", "Department of Pediatrics", "Department of Radiology",
    "Department of Respiratory and Critical Care Medicine", "Department of Psychiatry",
    "Department of Pharmacology", "School of Public Health", "Laboratory of Virology",
    "State Key Laboratory of Virology", "Division of Infectious Diseases", "Department of Biostatistics",
    "Department of Immunology", "Department of Anesthesiology", "Department of Emergency Medicine",
    "Centre for Mathematical Modelling of Infectious Diseases", "Department of Pathology",
    "Department of Laboratory Medicine", "Department of Cardiology", "Department of Neurology",
)

# Journals: a head of common titles (a Zipf head: PLoS One, IJERPH, ...) and parts for the tail.
JOURNALS = (
    "PLoS One", "Int J Environ Res Public Health", "Sci Rep", "J Med Virol", "BMJ", "Viruses", "Cureus",
    "Front Immunol", "J Med Internet Res", "Lancet", "Nature", "JAMA", "Front Psychol", "BMJ Open",
    "Open Forum Infectious Diseases", "Vaccines (Basel)", "Front Public Health", "Clin Infect Dis",
    "J Clin Med", "Medicine (Baltimore)", "Nat Commun", "Eur Rev Med Pharmacol Sci", "Emerg Infect Dis",
    "J Infect", "Euro Surveill", "Int J Infect Dis", "Front Psychiatry", "Sustainability", "BMC Public Health",
    "Travel Med Infect Dis", "Am J Trop Med Hyg", "Vaccine", "Crit Care", "J Virol", "Lancet Infect Dis",
    "N Engl J Med", "Cell", "Science", "Clin Microbiol Infect", "Emerg Microbes Infect", "J Clin Virol",
    "Antiviral Res", "Virol J", "Epidemiol Infect", "Eurosurveillance", "Healthcare (Basel)", "Diagnostics (Basel)",
    "Int J Mol Sci", "Pathogens", "Microorganisms", "Life Sci", "Biomed Pharmacother", "Front Microbiol",
    "Psychiatry Res", "J Affect Disord", "Brain Behav Immun", "Am J Infect Control", "J Hosp Infect",
)
JOURNAL_PREFIXES = ("J", "Int J", "Am J", "Eur J", "Ann", "Arch", "Front", "Clin", "Br J", "Asian J", "Afr J",
                    "Indian J", "Chin J", "Curr", "Adv", "Rev", "World J", "Open", "BMC", "Pan Afr", "Iran J",
                    "Turk J", "Braz J", "Can J", "Scand J", "Jpn J", "Korean J", "Med", "Acta", "Zhonghua",
                    "Rev Esp", "Rev Bras", "Dtsch", "Ital J", "Pol J", "Russ J", "Saudi J", "Egypt J", "Niger J",
                    "East Mediterr", "Hong Kong", "Singapore", "Aust N Z J", "S Afr", "Ir J", "Mex J", "Cad")
JOURNAL_FIELDS = ("Infect Dis", "Virol", "Med", "Public Health", "Epidemiol", "Immunol", "Microbiol",
                  "Respir Med", "Pediatr", "Psychiatry", "Clin Pract", "Intern Med", "Nurs", "Health Serv Res",
                  "Cardiol", "Neurol", "Radiol", "Anesth", "Crit Care Med", "Trop Med", "Vet Sci", "Pharmacol",
                  "Surg", "Dermatol", "Gastroenterol", "Nephrol", "Oncol", "Ophthalmol", "Dent", "Obstet Gynecol",
                  "Emerg Med", "Occup Med", "Health Policy", "Glob Health", "Mol Biol", "Biochem", "Genet",
                  "Environ Health", "Educ", "Econ", "Ethics", "Soc Sci", "Behav Sci", "Sports Med", "Geriatr",
                  "Rehabil", "Nutr", "Allergy", "Rheumatol", "Hematol", "Endocrinol", "Urol", "Otolaryngol")
JOURNAL_SUFFIXES = ("", "", "", " Res", " Rep", " (Basel)", " Open", " Lett", " Pract", " Sci", " Online",
                    " Case Rep", " Commun", " Int", " Today", " Rev", " Ther", " Methods", " Care", " Perspect",
                    " J", " Bull", " Q", " Insights", " Adv", " Forum", " Soc", " Glob", " Med", " Rep Rev")

# Generic titles of notices, editorials and news items (many papers share them).
GENERIC_TITLES = ("Department of Error", "Correction", "Erratum", "Corrigendum", "Editorial",
                  "Letter to the Editor", "Reply", "Response to the letter", "In this issue", "News in brief",
                  "Highlights", "Announcement", "Retraction notice", "Editorial board", "Feedback", "Letters",
                  "Coronavirus", "COVID-19", "Expression of concern", "Abstracts", "Contents", "Commentary",
                  "Public health round-up", "Working hypothesis", "Forthcoming papers", "Obituary", "Book review",
                  "Conference report", "Clinical vignettes", "Scientific abstracts")

# Titles (built around a topic's concept {c}, {c2} and seed word {w}); a subtitle may follow.
TITLE_CORES = (
    "{C}", "{C} in {population}", "{W} and {c}", "{C} and {w} in {population}",
    "The role of {c} in {w} during {outbreak}", "{W} among {population} in {place}",
    "Association between {c} and {c2} in {population}", "{C} as a determinant of {w}",
    "Changes in {w} after {c} in {place}", "{C}, {c2} and {w}", "Assessing {w} in {population} in relation to {c}",
    "Patterns of {c} and {w} in {place}, {year}", "What drives {w}? Insights from {c} in {population}",
    "Impact of {c} on {w} among {population}", "{C} and the risk of {c2} in {population}",
    "Effect of {c} on {w} in {n} {population}", "Clinical characteristics of {n} {population} with {c}",
    "Trends in {w} and {c} in {place} from {year} to {year2}", "{C} in {population}: lessons from {place}",
    "Predictors of {w} in {population} with {c}", "Long-term {w} after {c}",
    "{C} versus {c2} for {w}", "Is {c} associated with {w}?", "Rethinking {w} in the era of {c}",
    "A novel approach to {w} based on {c}", "Temporal dynamics of {c} and {w} across {place}",
    "Sex differences in {c} and {w} among {population}", "{C}-related {w} in {place}",
    "Determinants of {w} and {c} in {population} during {outbreak}", "Toward better {w}: the case of {c}",
)
SHORT_TITLES = ("{C} among {population} in {place}", "{C} in {n} {population}", "{W} and {c2} in {population}",
                "{C} and {c2} in {place}", "{W} among {population} in {place}", "{C} and {w} in {place}",
                "{W} after {c} in {population}", "{C} in {population} with {c2}", "{W} and {c} in {place}",
                "{C} among {population} in {place}")
TAILS = (" in {place}", " among {population} with {c2}", " ({place}, {year2})", " among {population} in {place}",
         " in {population} in {place}", " in {place}, {year}-{year2}")
SUBTITLES = (": a {design} in {place}", ": results of a {design} in {place}", " in {place}: a {design}",
             ": evidence from {place}, {year}-{year2}", ": a {design} of {n} {population}",
             ". A {design} of {population} in {place}", " - a {design} in {population} with {c2}",
             ": protocol for a {design} in {place}", ": findings from the {place} cohort of {population}",
             ": a {design} among {population} in {place}", " in {population} with {c2}: a {design}")
QUALIFIERS = (" among {population} in {place} between {year} and {year2}", " and its implications for {w} in {place}",
              " in {population} with and without {c2}", " during the first and second waves in {place}",
              ", with special reference to {c2} and {w}", " across {n} hospitals in {place} and neighbouring regions",
              " in the context of {w} and {c2}", " ({place}, {year}-{year2})")
MORE_DESIGNS = ("retrospective cohort study", "prospective cohort study", "cross-sectional study",
                "systematic review and meta-analysis", "case series", "modelling study", "randomised controlled trial",
                "multicentre observational study", "narrative review", "population-based survey",
                "case-control study", "qualitative study", "scoping review", "single-centre study",
                "nationwide registry study", "mixed-methods study", "pilot study", "longitudinal study",
                "secondary analysis", "rapid review")
MORE_POPULATIONS = ("hospitalised patients", "health care workers", "children", "older adults", "pregnant women",
                    "university students", "outpatients", "nursing home residents", "the general population",
                    "people living with HIV", "adolescents", "intensive care patients", "kidney transplant recipients",
                    "cancer patients", "frontline nurses", "primary care patients", "migrants", "military personnel",
                    "dialysis patients", "people with diabetes", "healthcare students", "veterans",
                    "community-dwelling adults", "infants", "people experiencing homelessness", "athletes",
                    "prisoners", "obstetric patients", "emergency department visitors", "school teachers")
MORE_PLACES = tuple(sorted({city for _, cities in COUNTRIES.values() for city, _ in cities}
                           | {"Lombardy", "Hubei", "Bavaria", "Catalonia", "Québec", "Scotland", "Kerala",
                              "Ontario", "California", "New York City", "Sub-Saharan Africa", "Latin America",
                              "Europe", "Southeast Asia", "the United States", "England", "Brazil", "India",
                              "China", "Japan", "South Korea", "Iran", "Italy", "Spain", "Germany", "Sweden"}))

# Sentences of the body and abstract, by section ({c}, {c2}: concepts; {w}: a seed word): the demo
# corpus's (vocab) and more.
INTRO = vocab.INTRO + (
    "{C} has emerged as a major concern for {population} worldwide.",
    "The burden of {c} among {population} remains poorly characterised.",
    "Evidence on {w} in {population} is scarce, particularly in {place}.",
    "Both {c} and {c2} have been proposed as markers of {w}.",
    "During {outbreak}, {w} became a priority for clinicians and policy makers.",
    "Most published data on {c} come from {population} in high-income settings.",
    "It remains unclear whether {c} modifies the association between {c2} and {w}.",
    "Recent reports from {place} described unexpected changes in {w}.",
)
METHODS = vocab.METHODS + (
    "Samples were processed within {d} hours of collection and tested for {c}.",
    "We searched the literature published between {period} for studies reporting {c}.",
    "A mixed-effects model accounted for clustering of {population} within sites.",
    "The study protocol was approved by the ethics committee of each participating centre.",
    "Exposure to {c} was ascertained from medical records and interviews.",
    "We estimated {w} with a Bayesian hierarchical model fitted to data from {place}.",
    "Two reviewers independently extracted data on {c}, {c2} and {w}.",
    "Missing values were imputed by multiple imputation with {d} imputed datasets.",
)
RESULTS = (
    "Of the {n} participants, {p}% showed evidence of {c}.",
    "{C} correlated with {w} (odds ratio {or_}, 95% CI {lo}-{hi}).",
    "We found a stronger link between {c} and {w} in {population}.",
    "{W} differed markedly between groups, particularly with respect to {c}.",
    "The median follow-up for {w} was {d} days.",
    "No significant association was found between {c2} and {w}.",
    "Overall, {p}% of {population} reported changes in {w}.",
    "The hazard ratio for {c} was {or_} (95% CI {lo}-{hi}) after adjustment.",
    "Among {population}, {c} was more frequent than {c2} ({p}% versus {p2}%).",
    "{C} was detected in {n} of the samples tested.",
    "The incidence of {c} declined by {p}% after the introduction of new measures.",
    "Participants with {c2} had a higher risk of {c} than those without.",
    "The model reproduced the observed {w} with a mean error of {p}%.",
    "Results were consistent across subgroups defined by age and {c2}.",
    "The pooled estimate of {w} was {p}% with substantial heterogeneity.",
)
DISCUSSION = vocab.DISCUSSION + (
    "Unlike previous studies, we observed no clear effect of {c2} on {w}.",
    "The observational design does not allow causal conclusions about {c}.",
    "Strengths of this study include its size and the standardised assessment of {w}.",
    "Clinicians should be aware of {c} when caring for {population}.",
    "Policy makers in {place} may use these estimates to plan {w}.",
    "Residual confounding by {c2} cannot be excluded.",
    "Our results add to the growing evidence on {c} during {outbreak}.",
)
SECTION_TEMPLATES = (("Introduction", INTRO), ("Methods", METHODS), ("Results", RESULTS),
                     ("Discussion", DISCUSSION))
# Section headings as parses write them: (PDF headings, PMC headings), per section.
PDF_HEADINGS = {
    "Introduction": ("Introduction", "Introduction", "INTRODUCTION", "Background", "", "I. INTRODUCTION"),
    "Methods": ("Methods", "Materials and Methods", "Statistical analysis", "Data collection", "METHODS",
                "Study design", "", "Model"),
    "Results": ("Results", "Results", "RESULTS", "", "Results and Discussion"),
    "Discussion": ("Discussion", "Discussion", "DISCUSSION", "Conclusions", "Conclusion", ""),
}
PMC_HEADINGS = {
    "Introduction": ("Introduction", "Background"),
    "Methods": ("Study design and participants ::: Methods", "Data collection ::: Methods",
                "Laboratory procedures ::: Methods", "Statistical analysis ::: Methods", "Methods"),
    "Results": ("Results", "Participants ::: Results", "Main outcomes ::: Results"),
    "Discussion": ("Discussion", "Conclusions", "Limitations ::: Discussion"),
}
STRUCTURED_ABSTRACT = ("Background: ", "Methods: ", "Results: ", "Conclusions: ")
BACK_MATTER = (
    "The authors declare no competing interests.",
    "This work was supported by the National Research Foundation and by institutional funds.",
    "We thank all participants and the staff of the participating centres.",
    "The data that support the findings of this study are available from the corresponding author on request.",
    "All authors contributed to the design of the study and approved the final manuscript.",
    "The funders had no role in study design, data collection and analysis, or the preparation of the manuscript.",
)
# What the PDF parser takes from a preprint's page footers (CORD-19's real debris).
PREPRINT_FOOTER = ("author/funder. All rights reserved. No reuse allowed without permission. The copyright holder "
                   "for this preprint (which was not peer-reviewed) is the . https://doi.org/{doi} doi: {server} "
                   "preprint")
JUNK_REFERENCES = ("All rights reserved. No reuse allowed without permission", "Supplementary Material",
                   "World Health Organization", "Coronavirus disease (COVID-19) situation report",
                   "*=p<0.05, Fisher's exact test", "Available at", "Accessed", "The Lancet", "Data were")
SUPPLEMENT = ("Supplementary Table S{k}. Characteristics of the {population} included in the analysis.",
              "Supplementary Figure S{k}. Sensitivity analysis of {w}.",
              "Table S{k}. Definitions of {c} and {c2} used in this study.",
              "Figure S{k}. Distribution of {w} by site.")
