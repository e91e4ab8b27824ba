/// Where the routing configs go and how the routing daemon picks them up.
public struct RoutingDaemonSettings: Sendable, Equatable {
    public var flavour: RoutingDaemonFlavour
    public var configDirectory: String
    public var user: String
    public var group: String
    public var vtysh: String
    public var reload: ReloadAction
    /// How many timestamped backups of each file to keep.
    public var backups: Int
    /// FRR pathspace (`-N NAME`) when several instances share a host.
    public var pathspace: String?
    /// Overrides the template search path (docs/configuration.md).
    public var templatesDirectory: String?

    public init(
        flavour: RoutingDaemonFlavour = .frr, configDirectory: String = "/etc/frr", user: String = "frr",
        group: String = "frr", vtysh: String = "/usr/bin/vtysh", reload: ReloadAction = .frrReload,
        backups: Int = 5, pathspace: String? = nil, templatesDirectory: String? = nil
    ) {
        self.flavour = flavour
        self.configDirectory = configDirectory
        self.user = user
        self.group = group
        self.vtysh = vtysh
        self.reload = reload
        self.backups = backups
        self.pathspace = pathspace
        self.templatesDirectory = templatesDirectory
    }
}

public enum RoutingDaemonFlavour: String, Sendable, Equatable, CaseIterable {
    case frr
    case quagga
}

/// What to run after a successful install.
public enum ReloadAction: Sendable, Equatable {
    /// `frr-reload.py --reload --daemon NAME FILE` per daemon: the only FRR
    /// reload that applies a split per-daemon file (SIGHUP only logs).
    case frrReload
    /// An argv run without a shell, once per installed file, with `{daemon}`
    /// and `{file}` substituted.
    case command([String])
    case none
}
