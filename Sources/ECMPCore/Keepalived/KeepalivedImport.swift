/// What `KeepalivedImporter` made of a keepalived.conf: a managed-mode
/// config, every warning (keywords ecmpd does not support, notes on skipped
/// blocks), and where `ha_suspend` was found.
public struct KeepalivedImport: Sendable {
    public var config: Config
    public var warnings: [ConfigProblem]
    /// Every `ha_suspend`. A keepalived that keeps running beside ecmpd with
    /// this set stops checking while ecmpd has withdrawn the VIP, so callers
    /// may want to refuse observe mode or say so once more.
    public var haSuspend: [KeepalivedLocation]

    public init(config: Config, warnings: [ConfigProblem], haSuspend: [KeepalivedLocation]) {
        self.config = config
        self.warnings = warnings
        self.haSuspend = haSuspend
    }

    /// Comment lines for the top of the generated YAML: where it came from,
    /// how keepalived's check timing was carried over, and the warnings,
    /// so the file itself tells a reviewer what to look at. A warning about
    /// a keyword keepalived does not know is only counted: that line may
    /// come from a file that is not a keepalived config at all, and the
    /// YAML is meant to be installed and read by others.
    public func header(source: String) -> [String] {
        var lines = [
            "Imported from \(source) by `ecmpd import-keepalived`.",
            "Checks keep keepalived's timing: interval = delay_loop, timeout = connect_timeout",
            "(MISC_CHECK: misc_timeout), retries = keepalived's retry + 1 attempts,",
            "retry_delay = delay_before_retry, rise = fall = 1.",
        ]
        let copied = warnings.filter { warning in warning.field.map(KeepalivedGrammar.isKeyword) ?? true }
        let unknown = warnings.count - copied.count
        if !warnings.isEmpty {
            lines.append("")
            lines.append("Review before use (\(warnings.count) warning\(warnings.count == 1 ? "" : "s")):")
            lines += copied.map { "  " + $0.description }
        }
        if unknown > 0 {
            let about = unknown == 1 ? "1 about a keyword" : "\(unknown) about keywords"
            lines.append("  and \(about) keepalived does not know, not copied here: see the import's stderr")
        }
        return lines
    }
}

/// A line in a keepalived config: the file it is in (the included file's
/// own name for lines from an `include`) and its number, counted from 1.
public struct KeepalivedLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int

    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }

    public var description: String { "\(file):\(line)" }
}
