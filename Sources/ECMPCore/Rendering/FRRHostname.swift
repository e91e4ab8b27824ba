/// The host name zebra.conf and ospfd.conf will carry. FRR's `hostname`
/// command rejects a name that does not start with a letter or digit
/// ("Please specify string starting with alphabet or number"), and a host
/// whose name was never set reports "(none)" (the kernel's default), so
/// ecmpd says which field to set before vtysh fails on the rendered file.
public enum FRRHostname {
    /// Why the name ecmpd would render cannot be used, or nil when it can.
    public static func problem(configured: String?, system: String) -> String? {
        let name = configured ?? system
        if let first = name.unicodeScalars.first, first.isASCII,
            first.properties.isAlphabetic || ("0"..."9").contains(first)
        {
            return nil
        }
        if configured != nil {
            return "hostname '\(name)' must start with a letter or digit (FRR's hostname command rejects it)"
        }
        return
            "this host's name is '\(name)', which FRR rejects as a hostname; set node.hostname (or the system's host name)"
    }
}
