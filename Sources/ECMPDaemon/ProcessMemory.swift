import CGlibcExtras
import ECMPCore

#if canImport(Glibc)
    import Glibc
#endif

/// Keeps a long-running daemon's resident memory near its working set. At
/// 10,000 managed real servers (docs/benchmarks.md, "Check throughput and
/// cost") ecmpd's working set is a few tens of MB, but glibc's defaults let
/// RSS sit far above it: a malloc arena per contending thread, each keeping
/// the high-water mark of that thread's per-cycle tables, and the parse of a
/// large config peaking at several times what the parsed config keeps.
enum ProcessMemory {
    /// At most two malloc arenas (glibc allows 8 per core).
    static func limitArenas() {
        _ = mallopt(M_ARENA_MAX, 2)
    }

    /// Returns freed pages to the kernel, also from the middle of the heap.
    static func returnFreedPages() {
        _ = malloc_trim(0)
    }
}

extension LoadedConfig {
    /// The config as the daemon keeps it: without the source locations of
    /// real-server fields (one path string per field: 8 MB at 10,000
    /// servers). Problems found while parsing already carry their lines;
    /// what the daemon reports later (rendering, interfaces, VIPs) is placed
    /// by the fields it keeps. Applied where the file is read, so that no
    /// copy with every location stays referenced.
    public func keepingLocationsAboveRealServers() -> LoadedConfig {
        var kept = self
        kept.locations = locations.filter { !$0.key.contains(".real_servers[") }
        return kept
    }
}
