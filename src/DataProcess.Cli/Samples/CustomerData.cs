using System.Text;

namespace DataProcess.Cli.Samples;

/// <summary>
/// The embedded vocabularies <see cref="CustomerGenerator"/> draws from. Changing any list changes the
/// bytes every seed produces (and so the committed sample): the sample test will say so.
/// </summary>
internal static class CustomerData
{
    public static readonly string[] FirstNames =
    [
        "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William", "Elizabeth",
        "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
        "Anna", "Lukas", "Leon", "Mia", "Finn", "Emma", "Jonas", "Hannah", "Felix", "Lea",
        "Sofía", "José", "Lucía", "Mateo", "Martina", "Alejandro", "Valentina", "Diego", "Camila", "Javier",
        "Zoë", "Chloé", "Élodie", "François", "Amélie", "Théo", "Inès", "Raphaël", "Noémie", "Jérôme",
        "Björn", "Søren", "Åsa", "Märta", "Jürgen", "Jörg", "Ørjan", "Ingrid", "Sven", "Astrid",
        "Łukasz", "Małgorzata", "Zofia", "Piotr", "Šimon", "Tereza", "Ondřej", "Agnieszka", "Kateřina", "Mikołaj",
        "Hiroshi", "Yuki", "Haruto", "Sakura", "Wei", "Mei", "Jian", "Xiu", "Min-jun", "Seo-yeon",
        "Priya", "Arjun", "Ananya", "Rohan", "Fatima", "Omar", "Ahmed", "Layla", "Yusuf", "Aisha",
        "Olga", "Ivan", "Elena", "Dmitri", "Ngozi", "Chinedu", "Kwame", "Amara", "Thabo", "Zanele",
    ];

    public static readonly string[] LastNames =
    [
        "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor",
        "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schäfer", "Köhler",
        "García", "Martínez", "López", "González", "Rodríguez", "Fernández", "Sánchez", "Pérez", "Gómez", "Díaz",
        "Dubois", "Lefèvre", "Moreau", "Laurent", "Girard", "Fournier", "Rousseau", "Bonnet", "Lambert", "Faure",
        "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco",
        "O'Brien", "O'Connor", "McCarthy", "Murphy", "Kelly", "Walsh", "Byrne", "Ryan", "Doyle", "Gallagher",
        "Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Novák", "Svoboda", "Dvořáková", "Černý", "Horváth", "Nagy",
        "Jensen", "Hansen", "Nielsen", "Johansson", "Andersson", "Lindqvist", "Økland", "Virtanen", "Korhonen", "Åberg",
        "Nguyen", "Tran", "Kim", "Lee", "Park", "Wang", "Li", "Zhang", "Chen", "Liu",
        "Tanaka", "Suzuki", "Sato", "Singh", "Patel", "Kumar", "Silva", "Santos", "Oliveira", "Okafor",
    ];

    /// <summary>Reserved names only (RFC 2606 / RFC 6761): no generated address can belong to anyone.</summary>
    public static readonly string[] EmailDomains =
    [
        "example.com", "example.org", "example.net", "mail.example.com", "eu.example.org",
        "web.example.net", "mail.example", "post.example", "acme.example", "globex.example",
        "initech.example", "contoso.example", "fabrikam.example", "northwind.example", "tailspin.example",
        "wingtip.example", "adventure-works.example", "umbrella.test", "hooli.test", "piedpiper.test",
    ];

    /// <summary>ISO 3166 alpha-2 code, dialling code, postal code digits, cities (some in their own script).</summary>
    public static readonly Country[] Countries =
    [
        new("DE", "49", 5, ["Berlin", "München", "Hamburg", "Köln"]),
        new("FR", "33", 5, ["Paris", "Lyon", "Marseille"]),
        new("GB", "44", 5, ["London", "Manchester", "Edinburgh"]),
        new("US", "1", 5, ["New York", "Chicago", "San Francisco", "Austin"]),
        new("CA", "1", 5, ["Toronto", "Montréal", "Vancouver"]),
        new("ES", "34", 5, ["Madrid", "Barcelona", "Sevilla"]),
        new("IT", "39", 5, ["Roma", "Milano", "Napoli"]),
        new("NL", "31", 4, ["Amsterdam", "Rotterdam", "Utrecht"]),
        new("BE", "32", 4, ["Bruxelles", "Antwerpen", "Liège"]),
        new("CH", "41", 4, ["Zürich", "Genève", "Basel"]),
        new("AT", "43", 4, ["Wien", "Graz", "Salzburg"]),
        new("PL", "48", 5, ["Warszawa", "Kraków", "Łódź"]),
        new("CZ", "420", 5, ["Praha", "Brno"]),
        new("SE", "46", 5, ["Stockholm", "Göteborg", "Malmö"]),
        new("NO", "47", 4, ["Oslo", "Bergen", "Tromsø"]),
        new("DK", "45", 4, ["København", "Aarhus"]),
        new("FI", "358", 5, ["Helsinki", "Espoo", "Tampere"]),
        new("IE", "353", 5, ["Dublin", "Cork", "Galway"]),
        new("PT", "351", 4, ["Lisboa", "Porto"]),
        new("GR", "30", 5, ["Αθήνα", "Θεσσαλονίκη"]),
        new("TR", "90", 5, ["İstanbul", "Ankara", "İzmir"]),
        new("JP", "81", 7, ["東京", "大阪", "Kyoto"]),
        new("CN", "86", 6, ["北京", "上海", "Shenzhen"]),
        new("KR", "82", 5, ["서울", "Busan"]),
        new("IN", "91", 6, ["Mumbai", "Bengaluru", "Delhi"]),
        new("BR", "55", 8, ["São Paulo", "Rio de Janeiro", "Brasília"]),
        new("MX", "52", 5, ["Ciudad de México", "Guadalajara"]),
        new("AR", "54", 4, ["Buenos Aires", "Córdoba"]),
        new("AU", "61", 4, ["Sydney", "Melbourne", "Brisbane"]),
        new("ZA", "27", 4, ["Cape Town", "Johannesburg"]),
        new("NG", "234", 6, ["Lagos", "Abuja"]),
        new("EG", "20", 5, ["القاهرة", "Alexandria"]),
    ];

    public static readonly string[] Streets =
    [
        "Hauptstraße", "Bahnhofstraße", "Königsallee", "Main Street", "High Street", "Baker Street", "Park Lane",
        "Elm Street", "Oak Avenue", "Station Road", "Rue de la Paix", "Avenue des Champs-Élysées", "Rue de l'Église",
        "Calle Mayor", "Gran Vía", "Via Roma", "Kerkstraat", "Strandvejen", "Ulica Długa", "Avenida Paulista",
    ];

    public static readonly string[] Tags =
    [
        "vip", "newsletter", "b2b", "b2c", "churn-risk", "loyalty", "beta", "wholesale", "student",
        "early-adopter", "support-priority", "gdpr-export-requested",
    ];

    /// <summary>UTC offsets for <c>createdAt</c>, in minutes (India and Nepal included for the odd ones).</summary>
    public static readonly int[] OffsetMinutes = [0, 60, 120, -300, -240, -420, -480, 330, 345, 540, 600, -180];

    /// <summary>
    /// <c>notes</c> values as JSON string literals, written verbatim so the file carries both raw UTF-8
    /// (2-, 3- and 4-byte sequences) and every kind of escape (<c>\"</c>, <c>\n</c>, <c>\uXXXX</c>, surrogate pairs).
    /// </summary>
    public static readonly byte[][] NoteLiterals =
    [
        Literal("""Prefers \"express\" delivery"""),
        Literal("""Call after 5pm\nLeave parcels at the door"""),
        Literal("""Café crème ☕ every morning, naïve about coöperation"""),
        Literal("""漢字とかなのメモ: 配達は午前中"""),
        Literal("""Raw emoji 🎉🚀 and an escaped one \ud83d\udc4d"""),
        Literal("""Tab\tseparated\tvalues, a backslash \\ and a path C:\\temp\\x.csv"""),
        Literal("""Escaped unicode: \u00e9\u00e8 \u6f22\u5b57 \u00fcber"""),
        Literal("""Line one\r\nLine two, a solidus \/ escaped"""),
        Literal("""Family 👨‍👩‍👧 (ZWJ sequence) and RTL text مرحبا"""),
        Literal("""Control \u0001 escaped; </script> & <b>markup</b> kept as text"""),
    ];

    private static byte[] Literal(string jsonStringContent) => Encoding.UTF8.GetBytes("\"" + jsonStringContent + "\"");

    /// <summary>The ASCII lowercase e-mail spelling of a name: diacritics folded, anything else dropped.</summary>
    public static string EmailPart(string name)
    {
        var builder = new StringBuilder(name.Length + 2);
        foreach (var c in name)
        {
            if (c is >= 'a' and <= 'z' or >= '0' and <= '9')
            {
                builder.Append(c);
            }
            else if (c is >= 'A' and <= 'Z')
            {
                builder.Append((char)(c + ('a' - 'A')));
            }
            else
            {
                builder.Append(Fold(c));
            }
        }

        return builder.ToString();
    }

    private static string Fold(char c) => c switch
    {
        'à' or 'á' or 'â' or 'ã' or 'ä' or 'å' or 'Å' or 'Ä' => "a",
        'æ' => "ae",
        'ç' or 'ć' or 'č' => "c",
        'è' or 'é' or 'ê' or 'ë' or 'ě' or 'É' => "e",
        'ì' or 'í' or 'î' or 'ï' or 'ı' or 'İ' => "i",
        'ł' or 'Ł' => "l",
        'ñ' or 'ń' => "n",
        'ò' or 'ó' or 'ô' or 'õ' or 'ö' or 'ø' or 'Ø' or 'Ö' => "o",
        'ř' => "r",
        'ś' or 'š' or 'Š' => "s",
        'ß' => "ss",
        'ù' or 'ú' or 'û' or 'ü' or 'Ü' => "u",
        'ý' or 'ÿ' => "y",
        'ż' or 'ź' or 'ž' => "z",
        _ => string.Empty,
    };
}

internal sealed record Country(string Code, string DialCode, int PostalDigits, string[] Cities);
