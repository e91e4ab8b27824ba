import ArgumentParser

/// `ecmpd loopback ...`: plumbing for the VIP addresses on lo — the edge the
/// daemon's reconciler drives, runnable by hand (and by the namespace tests
/// through `ip netns exec`). Hidden from help: operators use `drain` and
/// the daemon; this is for debugging and tests.
struct LoopbackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loopback",
        abstract: "List the addresses on lo, or make lo's VIP /32s match a given announced set.",
        shouldDisplay: false,
        subcommands: [LoopbackListCommand.self, LoopbackApplyCommand.self]
    )
}
