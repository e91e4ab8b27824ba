/// Turns a keepalived.conf into a managed-mode ecmpd config: one VIP per
/// virtual server address, one service per virtual server, checks with
/// keepalived's timing. Everything keepalived does that ecmpd does not is
/// named in a warning; nothing is dropped silently. keepalived's VRRP is
/// noted and skipped: with OSPF ECMP every director announces the VIP.
///
/// Decisions the keepalived file cannot make for us:
/// - A fwmark virtual server has no address. Its VIP is `fwmarkVIP` when
///   given, else the one IPv4 `virtual_ipaddress` of the config's VRRP
///   instances; with none or several, the import fails and asks for the VIP.
/// - Keywords that differ from keepalived's only in case are errors: keepalived
///   does not know them and loses their whole block.
/// - Unknown keywords are warnings (keepalived ignores them too), unless they
///   open a block, whose settings would be lost: then they are errors.
/// - A file that is plainly not a keepalived config (binary, or its first
///   statements all unknown), the main one or an included one, stops the
///   import with one error that shows none of its lines.
public enum KeepalivedImporter {
    /// Returns the files an `include` names, as (name, text) pairs in the
    /// order keepalived reads them (glob order). The path is already
    /// resolved against the including file's directory; it may be a glob.
    /// A loader that finds nothing returns an empty list.
    public typealias IncludeLoader = (_ path: String) throws -> [(file: String, text: String)]

    /// - Parameters:
    ///   - file: The name problems carry, and the directory relative
    ///     includes start from.
    ///   - fwmarkVIP: The VIP that fwmark virtual servers belong to.
    ///   - fwmarkVIP6: The IPv6 VIP that fwmark virtual servers of
    ///     `ip_family inet6` belong to.
    ///   - configID: keepalived's `-i` id (by default the director's short
    ///     hostname), which decides the `@ID` lines; nil keeps none of them.
    /// - Throws: every problem, warnings included, in file order, when at
    ///   least one is an error.
    public static func importConfig(
        text: String, file: String, fwmarkVIP: IPv4Address? = nil, fwmarkVIP6: IPAddress? = nil,
        configID: String? = nil,
        includeLoader: IncludeLoader = { _ in [] }
    ) throws(ConfigErrors) -> KeepalivedImport {
        if let problem = SourceText.sizeProblem(text.utf8, file: file) { throw ConfigErrors([problem]) }
        var lexer = KeepalivedLexer(configID: configID)
        lexer.read(text: text, file: file, includeLoader: includeLoader)
        // Nothing else is said: every other problem would be about lines of
        // a file that may hold secrets.
        if let notAConfig = lexer.notAConfig { throw ConfigErrors([notAConfig]) }
        let tree = KeepalivedStatement.tree(lexer.tokens)
        let translation = KeepalivedTranslation(fwmarkVIP: fwmarkVIP, fwmarkVIP6: fwmarkVIP6)
        translation.translate(tree.statements)
        let vips = translation.vips()
        var problems = lexer.problems + tree.problems + translation.problems
        if vips.isEmpty, !problems.contains(where: { $0.problem.severity == .error }) {
            problems.append(
                (Int.max, ConfigProblem(file: file, line: 1, message: "no virtual_server found: nothing to import")))
        }
        // IPv6 VIPs are announced by ospf6d: their config needs the section.
        let config = Config(
            mode: .managed, ospf6: vips.contains { $0.address.ipv4 == nil } ? OSPFSettings() : nil, vips: vips)
        if !problems.contains(where: { $0.problem.severity == .error }) {
            problems += selfCheck(config, file: file).map { (Int.max, $0) }
        }
        // Problems from all stages, in the order of the lines they are about.
        let ordered = problems.enumerated().sorted { ($0.element.order, $0.offset) < ($1.element.order, $1.offset) }
            .map(\.element.problem)
        if ordered.contains(where: { $0.severity == .error }) { throw ConfigErrors(ordered) }
        return KeepalivedImport(config: config, warnings: ordered, haSuspend: translation.haSuspend)
    }

    /// The generated YAML must read back as the same config. A difference is
    /// a bug in the import, reported rather than written out.
    static func selfCheck(_ config: Config, file: String) -> [ConfigProblem] {
        let yaml = ConfigEmitter.yaml(config)
        do {
            let loaded = try ConfigParser.parse(yaml, file: "(imported config)")
            if loaded.config == config { return [] }
            return [
                ConfigProblem(
                    file: file,
                    message:
                        "internal error: the imported config does not read back the same; please report this with the keepalived.conf"
                )
            ]
        } catch {
            return error.problems.filter { $0.severity == .error }.map {
                ConfigProblem(
                    file: file,
                    message:
                        "internal error: the imported config fails ecmpd's own checks (\($0.field ?? ""): \($0.message)); please report this with the keepalived.conf"
                )
            }
        }
    }
}

extension KeepalivedImporter {
    /// Every `ha_suspend` inside a `virtual_server` block, found without
    /// translating the rest: observe mode runs beside a keepalived whose
    /// config may use features an import would refuse. keepalived stops
    /// checking a virtual server whose address is not on the host; once
    /// ecmpd withdraws that VIP, nothing would ever bring it back. A
    /// `virtual_server fwmark N` is skipped: keepalived clears its
    /// ha_suspend (as the import does).
    public static func haSuspendLocations(
        text: String, file: String, configID: String? = nil, includeLoader: IncludeLoader = { _ in [] }
    ) -> [KeepalivedLocation] {
        var lexer = KeepalivedLexer(configID: configID)
        lexer.read(text: text, file: file, includeLoader: includeLoader)
        func scan(_ statements: [KeepalivedStatement], inVirtualServer: Bool) -> [KeepalivedLocation] {
            statements.flatMap { statement -> [KeepalivedLocation] in
                let here = inVirtualServer && statement.keyword == "ha_suspend" ? [statement.location] : []
                let opensVirtualServer = statement.keyword == "virtual_server" && statement.arguments.first != "fwmark"
                let nested =
                    statement.block.map { scan($0, inVirtualServer: inVirtualServer || opensVirtualServer) } ?? []
                return here + nested
            }
        }
        return scan(KeepalivedStatement.tree(lexer.tokens).statements, inVirtualServer: false)
    }
}
