using System.Globalization;

/// <summary>What `make bench` runs: the sizes, the profiles, the layouts, the repeats and the peer.</summary>
internal sealed record BenchOptions(
    int[] Sizes, int[] PeerSizes, string[] PeerProfiles, int Repeat, int Seed, string Out, string Python, bool AllCells, bool DryRun)
{
    /// <summary>At and above this size a cell runs once; below it, <see cref="Repeat"/> times (median kept).</summary>
    public const int RepeatBelowMb = 200;

    /// <summary>The largest size: only some layouts run there (<see cref="Runs"/>).</summary>
    public const int FullSizeMb = 1000;

    public static readonly int[] DefaultSizes = [10, 50, 200, FullSizeMb];

    public static BenchOptions Parse(string[] args)
    {
        int[] sizes = DefaultSizes, peerSizes = [10, 50, 200];
        string[] peerProfiles = [BenchProfile.Heavy];
        int repeat = 3, seed = 20261127;
        string output = "BENCHMARKS.md", python = "/usr/bin/python3";
        bool allCells = false, dryRun = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--sizes": sizes = Numbers(args[++i]); break;
                case "--peer-sizes": peerSizes = Numbers(args[++i]); break;
                case "--peer-profiles": peerProfiles = Words(args[++i]); break;
                case "--repeat": repeat = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--seed": seed = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--out": output = args[++i]; break;
                case "--python": python = args[++i]; break;
                case "--all-cells": allCells = true; break;
                case "--dry-run": dryRun = true; break;
                default: throw new ArgumentException($"unknown argument {args[i]}");
            }
        }

        if (sizes.Length == 0 || sizes.Any(s => s <= 0) || repeat < 1)
        {
            throw new ArgumentException("--sizes needs positive sizes in MB and --repeat at least 1");
        }

        foreach (var name in peerProfiles)
        {
            _ = BenchProfile.Named(name);
        }

        return new BenchOptions([.. sizes.Distinct().Order()], [.. peerSizes.Distinct().Order()], peerProfiles, repeat, seed, output, python, allCells, dryRun);

        static int[] Numbers(string text) => [.. Words(text).Select(w => int.Parse(w, CultureInfo.InvariantCulture))];

        static string[] Words(string text) => text.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries);
    }

    public int RepeatsAt(int sizeMb) => sizeMb < RepeatBelowMb ? Repeat : 1;

    /// <summary>
    /// Every profile in both layouts below 1 GB; at 1 GB every profile compact, and pretty-printed only the two
    /// profiles the layout goal is judged on (the sample's and the heavy one), unless <see cref="AllCells"/>.
    /// </summary>
    public bool Runs(int sizeMb, BenchProfile profile, Layout layout) =>
        AllCells || sizeMb < FullSizeMb || layout == Layout.Compact || profile.Name is BenchProfile.Sample or BenchProfile.Heavy;

    public bool PeerRuns(int sizeMb, BenchProfile profile, Layout layout) =>
        layout == Layout.Compact && PeerSizes.Contains(sizeMb) && PeerProfiles.Contains(profile.Name);
}

internal enum Layout
{
    Compact,
    Pretty,
}

/// <summary>A profile the matrix runs, by its short name in the tables.</summary>
internal sealed record BenchProfile(string Name, string RelativePath, string Description)
{
    public const string None = "none";
    public const string Sample = "sample";
    public const string Heavy = "heavy";
    public const string Arrays = "arrays";

    public static readonly BenchProfile[] All =
    [
        new(None, "bench/profiles/none.json", "no rules at all: id only"),
        new(Sample, "profiles/customers.json", "the sample's: 8 rules (2 on `friends[*]`), 5 enrichments"),
        new(Heavy, "bench/profiles/heavy.json", "hash ×2, mask, ip-prefix, year, nested `redact`; email-domain, age, country-name, utc"),
        new(Arrays, "bench/profiles/arrays.json", "`[*]` rules only: `friends[*].name` hash, `friends[*].phone` mask, `tags[*]` hash"),
    ];

    public static BenchProfile Named(string name) =>
        All.FirstOrDefault(p => p.Name == name) ?? throw new ArgumentException($"unknown profile {name}; known: {string.Join(", ", All.Select(p => p.Name))}");
}
