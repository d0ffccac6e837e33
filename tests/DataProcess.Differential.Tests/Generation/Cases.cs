using System.Globalization;
using CsCheck;
using DataProcess.Differential.Tests.Reference;

namespace DataProcess.Differential.Tests.Generation;

/// <summary>One generated input: a profile and the records to render in every layout.</summary>
public sealed record Case(int Seed, CaseProfile Profile, IReadOnlyList<Value> Records, bool Large)
{
    public override string ToString() => $"case seed {Seed}: {Records.Count} records{(Large ? ", large" : string.Empty)}, profile {Profile}";
}

/// <summary>
/// Generates cases from a seed: profiles that the ProfileLoader accepts, and records built to hit their paths with
/// every kind of value (usable, unusable, null, absent, the wrong container), duplicate ids, duplicate names,
/// records that are not objects, empty containers, deep nesting and, in a large case, strings of hundreds of KiB so
/// records straddle the reader's 1 MiB buffer. To add a rule or a value, see docs/testing.md.
/// </summary>
public static class Cases
{
    /// <summary>CsCheck draws the record count (shrunk towards few) and a seed for the rest.</summary>
    public static Gen<Case> Generator(int maxRecords, int depth) =>
        Gen.Select(Gen.Int[1, maxRecords], Gen.Int[0, int.MaxValue], (count, seed) => Build(seed, count, depth));

    public static readonly string[] Methods = ["hash", "mask", "redact", "year", "ip-prefix"];

    public static readonly string[] Functions = ["email-domain", "age", "year", "country-name", "utc", "lowercase"];

    private static readonly string[] AnonymizeCandidates =
    [
        "email", "name", "phone", "birthDate", "ip", "café", "score", "notes", "address", "address.street", "address.zip",
        "friends[*].name", "friends[*].phone", "friends[*]", "tags[*]", "ids[*]",
    ];

    private static readonly string[] FromCandidates = ["email", "birthDate", "createdAt", "address.country", "name", "notes", "score", "phone", "ip", "missing.field"];

    private static readonly string[] EnrichNames = ["email_domain", "age", "signup_year", "country", "created_utc", "lower_notes", "notes", "extra"];

    private static readonly string[] Texts =
    [
        "Ada Lovelace", "Élodie Tanaka", "café crème", "漢字テスト", "emoji 😀 and 👍🏽", "quote \" and back\\slash", "line\nbreak\ttab\rcr",
        "path/with/slashes", "  padded  ", string.Empty, "control \u0001\u001f", "U+2028 \u2028 U+FEFF \uFEFF", "MiXeD CaSe ÄÖÜ", "x",
    ];

    public static Case Build(int seed, int count, int depth)
    {
        var random = new Random(seed);
        var profile = Profile(random);
        var large = random.Next(10) == 0;
        var ids = Math.Max(1, (int)(count * 0.8));
        var records = new List<Value>(count);
        for (var i = 0; i < count; i++)
        {
            records.Add(Record(random, profile, ids, i, large, depth));
        }

        return new Case(seed, profile, records, large);
    }

    private static CaseProfile Profile(Random random)
    {
        var id = random.Next(3) == 0 ? "meta.key" : "id";
        var anonymize = new List<AnonymizeRule>();
        foreach (var path in AnonymizeCandidates.OrderBy(_ => random.Next()))
        {
            if (random.Next(2) == 0 || anonymize.Any(r => Overlap(r.Path, path)))
            {
                continue;
            }

            var method = path is "address" or "friends[*]" ? (random.Next(2) == 0 ? "redact" : "hash") : Methods[random.Next(Methods.Length)];
            anonymize.Add(new AnonymizeRule(path, method));
        }

        var require = new[] { "email", "name", "address.city" }.Where(_ => random.Next(4) == 0).ToList();
        var enrich = new List<EnrichRule>();
        foreach (var name in EnrichNames.OrderBy(_ => random.Next()).Take(random.Next(5)))
        {
            var function = Functions[random.Next(Functions.Length)];
            var from = FromCandidates[random.Next(FromCandidates.Length)];
            var personal = anonymize.Any(r => Within(from, r.Path));
            if (name == id.Split('.')[0] || anonymize.Any(r => Head(r.Path) == name) || require.Any(r => Head(r) == name)
                || (personal && function is "lowercase" or "utc"))
            {
                continue;
            }

            enrich.Add(new EnrichRule(name, function, from));
        }

        return new CaseProfile(id, require, anonymize, enrich);
    }

    private static Value Record(Random random, CaseProfile profile, int ids, int index, bool large, int depth)
    {
        // The first record of an NDJSON file must be an object: its first byte tells NDJSON from an array.
        if (index > 0 && random.Next(30) == 0)
        {
            return random.Next(4) switch
            {
                0 => new Number("42"),
                1 => new Str("not a record"),
                2 => new Arr([new Obj([("id", new Str("x"))])]),
                _ => Literal.Null,
            };
        }

        var record = new Obj();
        Field(record, "meta", () => new Obj([("source", new Str("gen"))]), random, 6);
        Place(record, profile.Id.Split('.'), Id(random, ids), random, absent: 25);
        Field(record, "email", () => Email(random), random, 8);
        Field(record, "name", () => Text(random), random, 8);
        Field(record, "phone", () => random.Next(3) == 0 ? Num(random.NextInt64(1_000_000, 99_999_999_999)) : new Str("+" + random.NextInt64(100_000_000, 9_999_999_999).ToString(CultureInfo.InvariantCulture)), random, 6);
        Field(record, "birthDate", () => Date(random), random, 6);
        Field(record, "createdAt", () => Date(random), random, 6);
        Field(record, "ip", () => Ip(random), random, 6);
        Field(record, "café", () => Text(random), random, 4);
        Field(record, "score", () => random.Next(2) == 0 ? Num(random.Next(-1000, 100000) / 100m) : Num(random.Next(0, 3)), random, 5);
        Field(record, "notes", () => large && random.Next(3) == 0 ? new Str(new string('n', random.Next(150_000, 450_000)) + " é") : Text(random), random, 4);
        Field(record, "address", () => Address(random), random, 5);
        Field(record, "friends", () => new Arr([.. Enumerable.Range(0, random.Next(4)).Select(_ => (Value)Friend(random))]), random, 5);
        Field(record, "tags", () => new Arr([.. Enumerable.Range(0, random.Next(4)).Select(_ => (Value)Text(random))]), random, 5);
        Field(record, "ids", () => new Arr([.. Enumerable.Range(0, random.Next(3)).Select(_ => random.Next(2) == 0 ? (Value)Num(random.Next(100)) : Text(random))]), random, 5);
        Field(record, "extra", () => Untouched(random, 3), random, 3);
        if (random.Next(40) == 0)
        {
            record.Set("deep", Deep(depth - 1));
        }

        if (random.Next(30) == 0)
        {
            // Two properties of one name, the second possibly in another escaping (the layout decides).
            var (name, _) = record.Properties[random.Next(record.Properties.Count)];
            record.Properties.Add((name, new Str("duplicate")));
        }

        // The records keep their properties in a random order: nothing may depend on it.
        var shuffled = record.Properties.OrderBy(_ => random.Next()).ToList();
        record.Properties.Clear();
        record.Properties.AddRange(shuffled);
        return record;
    }

    private static Value Id(Random random, int ids)
    {
        var n = random.Next(ids);
        return random.Next(25) switch
        {
            0 => Literal.Null,
            1 => new Str("   "),
            2 => new Obj([("v", new Number("1"))]),
            3 => new Literal("true"),
            4 => new Str(new string('k', 257)),
            < 12 => Num(n),
            < 14 => new Str("é-" + n.ToString(CultureInfo.InvariantCulture)),
            _ => new Str("c-" + n.ToString(CultureInfo.InvariantCulture)),
        };
    }

    /// <summary>A field with a value of its kind, sometimes null, a wrong kind, or absent (1 in <paramref name="absent"/>).</summary>
    private static void Field(Obj record, string name, Func<Value> value, Random random, int absent)
    {
        if (random.Next(absent) == 0)
        {
            return;
        }

        record.Set(name, random.Next(20) switch
        {
            0 => Literal.Null,
            1 => Untouched(random, 2),
            _ => value(),
        });
    }

    private static void Place(Obj record, string[] path, Value value, Random random, int absent)
    {
        if (random.Next(absent) == 0)
        {
            return;
        }

        var current = record;
        foreach (var name in path[..^1])
        {
            if (current[name] is not Obj next)
            {
                next = new Obj();
                current.Set(name, next);
            }

            current = next;
        }

        current.Set(path[^1], value);
    }

    private static Obj Address(Random random)
    {
        var address = new Obj();
        Field(address, "street", () => Text(random), random, 4);
        Field(address, "city", () => new Str(random.Next(2) == 0 ? "Oslo" : "São Paulo"), random, 4);
        Field(address, "zip", () => random.Next(2) == 0 ? Num(random.Next(10000, 99999)) : new Str("0" + random.Next(1000, 9999).ToString(CultureInfo.InvariantCulture)), random, 4);
        Field(address, "country", () => new Str(new[] { "GB", "us", " de ", "XX", "FR", "gb1", "ÅX" }[random.Next(7)]), random, 4);
        return address;
    }

    private static Obj Friend(Random random)
    {
        var friend = new Obj();
        Field(friend, "name", () => Text(random), random, 4);
        Field(friend, "phone", () => new Str("+1 555 0" + random.Next(100, 999).ToString(CultureInfo.InvariantCulture)), random, 3);
        return friend;
    }

    private static Value Email(Random random) => new Str(new[]
    {
        "ada@Example.ORG", " grace.hopper@navy.mil ", "no-at-sign", "a@b", "x@bücher.de", "weird@@double.example", "dots@a..b", "tail@dot.", "u@sub.domain-1.io",
    }[random.Next(9)]);

    private static Value Date(Random random) => random.Next(12) switch
    {
        0 => Num(random.Next(1900, 2030)),
        1 => Num(random.NextInt64(0, 2_000_000_000)),
        2 => Num(random.NextInt64(200_000_000_000, 1_900_000_000_000)),
        3 => new Str("Sun, 09 Dec 1906 00:00:00 GMT"),
        4 => new Str("2004/02/29"),
        5 => new Str("31/12/2020"),
        6 => new Str("2026-11-27T23:30:00-05:00"),
        7 => new Str("1815-12-10"),
        8 => new Str("2000-02-29T12:00:00.1234567Z"),
        9 => new Str("not a date"),
        10 => new Str("19991231"),
        _ => new Str(string.Create(CultureInfo.InvariantCulture, $"{random.Next(1940, 2030)}-{random.Next(1, 13):00}-{random.Next(1, 29):00}")),
    };

    private static Value Ip(Random random) => new Str(new[]
    {
        "203.0.113.77", "10.0.0.1", "010.1.1.1", "1.2.3", "256.1.1.1", "2001:db8:85a3:1234:5678:8a2e:370:7334", "::1", "::ffff:192.0.2.128",
        "fe80::1%eth0", "[::1]", "2001:DB8::", "not an ip",
    }[random.Next(12)]);

    private static Str Text(Random random) => new(Texts[random.Next(Texts.Length)] + (random.Next(3) == 0 ? random.Next(1000).ToString(CultureInfo.InvariantCulture) : string.Empty));

    /// <summary>A value no rule names: nested containers (often empty), scalars of every kind, number spellings.</summary>
    private static Value Untouched(Random random, int depth) => random.Next(depth > 0 ? 9 : 6) switch
    {
        0 => Text(random),
        1 => Num(random.Next(-5, 5) * Math.Pow(10, random.Next(-3, 4))),
        2 => new Literal(random.Next(2) == 0 ? "true" : "false"),
        3 => Literal.Null,
        4 => new Obj(),
        5 => new Arr(),
        6 => new Obj([.. Enumerable.Range(0, random.Next(1, 4)).Select(i => ("k" + i.ToString(CultureInfo.InvariantCulture), Untouched(random, depth - 1)))]),
        _ => new Arr([.. Enumerable.Range(0, random.Next(1, 4)).Select(_ => Untouched(random, depth - 1))]),
    };

    /// <summary>Containers nested <paramref name="levels"/> deep, alternating objects and arrays.</summary>
    private static Value Deep(int levels)
    {
        Value value = new Str("bottom");
        for (var i = 0; i < levels; i++)
        {
            value = i % 2 == 0 ? new Arr([value]) : new Obj([("d", value)]);
        }

        return value;
    }

    private static Number Num(long value) => new(value.ToString(CultureInfo.InvariantCulture));

    private static Number Num(decimal value) => new(ReferenceRules.NumberText(value.ToString(CultureInfo.InvariantCulture)));

    private static Number Num(double value) => Num((decimal)value);

    private static string Head(string path) => ReferencePipeline.Segments(path)[0];

    private static bool Within(string path, string of)
    {
        var inner = ReferencePipeline.Segments(path);
        var outer = ReferencePipeline.Segments(of);
        return outer.Length <= inner.Length && outer.SequenceEqual(inner.Take(outer.Length));
    }

    private static bool Overlap(string a, string b) => Within(a, b) || Within(b, a);
}
