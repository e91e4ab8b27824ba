import Yams

/// Writes a `Config` as the YAML that `ConfigParser` reads, so generated
/// configs (`ecmpd import-keepalived`) are ordinary files an operator can
/// review and edit. Keys come in a fixed order; settings that equal their
/// documented default are left out, except the ones a reader needs to see to
/// understand a service or a check (scheduler, forwarding, check timing).
///
/// Round trip: `ConfigParser.parse(ConfigEmitter.yaml(c)).config == c` for
/// every config the parser can produce.
public enum ConfigEmitter {
    /// The YAML text of `config`, preceded by `header` as `# ` comment lines.
    public static func yaml(_ config: Config, header: [String] = []) -> String {
        let comments =
            header
            .flatMap { $0.split(separator: "\n", omittingEmptySubsequences: false) }
            .map { $0.isEmpty ? "#" : "# \($0)" }
        let body: String
        do {
            body = try Yams.serialize(node: document(config), width: 100)
        } catch {
            // The tree holds only plain strings, lists and mappings; libyaml
            // refusing it would be a bug here, not a problem with the input.
            preconditionFailure("libyaml refused a generated document: \(error)")
        }
        return comments.isEmpty ? body : comments.joined(separator: "\n") + "\n" + body
    }

    // MARK: Sections

    static func document(_ config: Config) -> Node {
        var top = MappingBuilder()
        let node = nodeSettings(config.node)
        if !node.isEmpty { top["node"] = node.node }
        top["mode"] = text(config.mode.rawValue)
        let ospf = ospfSettings(config.ospf)
        if !ospf.isEmpty { top["ospf"] = ospf.node }
        if let ospf6 = config.ospf6 { top["ospf6"] = ospfSettings(ospf6).node }
        let routing = routingSettings(config.routing)
        if !routing.isEmpty { top["routing"] = routing.node }
        if config.status != StatusSettings() { top["status"] = Node([(text("listen"), text(config.status.listen))]) }
        top["vips"] = Node(config.vips.map(vip))
        return top.node
    }

    fileprivate static func nodeSettings(_ settings: NodeSettings) -> MappingBuilder {
        var fields = MappingBuilder()
        let defaults = NodeSettings()
        if let hostname = settings.hostname { fields["hostname"] = text(hostname) }
        if settings.stateDirectory != defaults.stateDirectory { fields["state_dir"] = text(settings.stateDirectory) }
        return fields
    }

    fileprivate static func ospfSettings(_ s: OSPFSettings) -> MappingBuilder {
        var fields = MappingBuilder()
        let d = OSPFSettings()
        if s.area != d.area { fields["area"] = text(s.area.description) }
        if case .named(let names) = s.interfaces { fields["interfaces"] = flowList(names.map(text)) }
        if s.helloInterval != d.helloInterval { fields["hello_interval"] = number(s.helloInterval) }
        if s.deadInterval != d.deadInterval { fields["dead_interval"] = number(s.deadInterval) }
        if s.priority != d.priority { fields["priority"] = number(s.priority) }
        if s.cost != d.cost { fields["cost"] = number(s.cost) }
        if s.loopbackCost != d.loopbackCost { fields["lo_cost"] = number(s.loopbackCost) }
        if let routerID = s.routerID { fields["router_id"] = text(routerID.description) }
        if let authentication = s.authentication {
            fields["authentication"] = Node([
                (text("key_id"), number(authentication.keyID)),
                (text("key_file"), text(authentication.keyFile)),
            ])
        }
        if s.fastConvergence != d.fastConvergence { fields["fast_convergence"] = boolean(s.fastConvergence) }
        if s.bfd.enabled {
            let b = s.bfd, defaults = BFDSettings()
            var bfd: [(Node, Node)] = []
            if b.receiveIntervalMilliseconds != defaults.receiveIntervalMilliseconds {
                bfd.append((text("receive_interval"), text("\(b.receiveIntervalMilliseconds)ms")))
            }
            if b.transmitIntervalMilliseconds != defaults.transmitIntervalMilliseconds {
                bfd.append((text("transmit_interval"), text("\(b.transmitIntervalMilliseconds)ms")))
            }
            if b.detectMultiplier != defaults.detectMultiplier {
                bfd.append((text("detect_multiplier"), number(b.detectMultiplier)))
            }
            if b.echoMode { bfd.append((text("echo_mode"), boolean(true))) }
            fields["bfd"] = Node([(text("enabled"), boolean(true))] + bfd)
        }
        return fields
    }

    /// `flavour: quagga` changes the defaults of the directory, account and
    /// reload action (see ConfigParser.readRouting), so the other fields are
    /// compared with the defaults of the flavour written.
    fileprivate static func routingSettings(_ s: RoutingDaemonSettings) -> MappingBuilder {
        var fields = MappingBuilder()
        var d = RoutingDaemonSettings()
        if s.flavour == .quagga {
            fields["flavour"] = text(s.flavour.rawValue)
            d.configDirectory = "/etc/quagga"; d.user = "quagga"; d.group = "quagga"; d.reload = .none
        }
        if s.configDirectory != d.configDirectory { fields["config_dir"] = text(s.configDirectory) }
        if s.user != d.user { fields["user"] = text(s.user) }
        if s.group != d.group { fields["group"] = text(s.group) }
        if s.vtysh != d.vtysh { fields["vtysh"] = text(s.vtysh) }
        if s.reload != d.reload {
            switch s.reload {
            case .frrReload: fields["reload"] = text("frr-reload")
            case .none: fields["reload"] = text("none")
            case .command(let argv):
                fields["reload"] = text("command")
                fields["reload_command"] = flowList(argv.map(text))
            }
        }
        if s.backups != d.backups { fields["backups"] = number(s.backups) }
        if let pathspace = s.pathspace { fields["pathspace"] = text(pathspace) }
        if let templates = s.templatesDirectory { fields["templates_dir"] = text(templates) }
        return fields
    }

    // MARK: VIPs

    static func vip(_ vip: VIPConfig) -> Node {
        var fields = MappingBuilder()
        fields["address"] = text(vip.address.description)
        if let name = vip.name { fields["name"] = text(name) }
        let policy = healthPolicy(vip.health)
        if !policy.isEmpty { fields["health"] = policy.node }
        if vip.fleetConsistent { fields["fleet_consistent"] = boolean(true) }
        if !vip.services.isEmpty { fields["services"] = Node(vip.services.map(service)) }
        return fields.node
    }

    fileprivate static func healthPolicy(_ p: HealthPolicy) -> MappingBuilder {
        var fields = MappingBuilder()
        let d = HealthPolicy()
        if p.minimumHealthy != d.minimumHealthy { fields["min_healthy"] = text(p.minimumHealthy.description) }
        if p.rise != d.rise { fields["rise"] = number(p.rise) }
        if p.fall != d.fall { fields["fall"] = number(p.fall) }
        if p.holdDown != d.holdDown { fields["hold_down"] = duration(p.holdDown) }
        return fields
    }

    static func service(_ s: VirtualService) -> Node {
        var fields = MappingBuilder()
        switch s.listener {
        case .port(let proto, let port):
            fields["protocol"] = text(proto.rawValue)
            fields["port"] = number(port)
        case .fwmark(let mark):
            fields["fwmark"] = number(Int(mark))
        }
        fields["scheduler"] = text(s.scheduler)
        if !s.schedulerFlags.isEmpty { fields["scheduler_flags"] = flowList(s.schedulerFlags.map(text)) }
        if let persistence = s.persistence {
            if let netmask = persistence.netmask {
                fields["persistence"] = Node([
                    (text("timeout"), number(persistence.timeout)),
                    (text("netmask"), text(netmask.description)),
                ])
            } else {
                fields["persistence"] = number(persistence.timeout)
            }
        }
        fields["forwarding"] = text(s.forwarding.rawValue)
        if let quorum = s.quorum { fields["quorum"] = number(quorum) }
        if s.hysteresis != 0 { fields["hysteresis"] = number(s.hysteresis) }
        if let sorry = s.sorryServer { fields["sorry_server"] = serverAddress(sorry) }
        if s.inhibitOnFailure { fields["inhibit_on_failure"] = boolean(true) }
        fields["real_servers"] = Node(s.realServers.map(realServer))
        return fields.node
    }

    static func serverAddress(_ address: RealServerAddress) -> Node {
        var fields = MappingBuilder()
        fields["address"] = text(address.address.description)
        if let port = address.port { fields["port"] = number(port) }
        return fields.node
    }

    static func realServer(_ server: RealServer) -> Node {
        var fields = MappingBuilder()
        fields["address"] = text(server.address.description)
        if let port = server.port { fields["port"] = number(port) }
        if server.weight != 1 { fields["weight"] = number(server.weight) }
        if let check = server.check { fields["check"] = healthCheck(check) }
        if let dropped = server.droppedKeepalivedCheck { fields["keepalived_check"] = text(dropped) }
        return fields.node
    }

    /// Every timing field is written, defaults included: a check's behaviour
    /// should be readable without the documentation at hand.
    static func healthCheck(_ check: HealthCheck) -> Node {
        var fields = MappingBuilder()
        switch check.kind {
        case .tcp: fields["type"] = text("tcp")
        case .http(let http): fields["type"] = text(http.tls ? "https" : "http")
        case .exec: fields["type"] = text("exec")
        case .udp: fields["type"] = text("udp")
        case .dns: fields["type"] = text("dns")
        case .icmp: fields["type"] = text("icmp")
        }
        fields["interval"] = duration(check.interval)
        fields["timeout"] = duration(check.timeout)
        fields["rise"] = number(check.rise)
        fields["fall"] = number(check.fall)
        fields["retries"] = number(check.retries)
        fields["retry_delay"] = duration(check.retryDelay)
        if let port = check.connectPort { fields["connect_port"] = number(port) }
        if check.viaVIP { fields["via_vip"] = boolean(true) }
        switch check.kind {
        case .tcp:
            break
        case .http(let http):
            fields["path"] = text(http.path)
            fields["status_codes"] = flowList(statusCodes(http.statusCodes))
            if let digest = http.digest { fields["digest"] = text(digest) }
            if let host = http.host { fields["host"] = text(host) }
            if http.tls { fields["verify_certificate"] = boolean(http.verifyCertificate) }
        case .exec(let argv):
            fields["command"] = flowList(argv.map(text))
        case .udp(let udp):
            let defaults = UDPCheck()
            fields["payload"] = Node(BytePattern(bytes: udp.payload).description, .implicit, .doubleQuoted)
            if let expect = udp.expect { fields["expect"] = Node(expect.description, .implicit, .doubleQuoted) }
            fields["require_reply"] = boolean(udp.requireReply)
            if udp.minimumReplyLength != defaults.minimumReplyLength {
                fields["min_reply_length"] = number(udp.minimumReplyLength)
            }
            if udp.maximumReplyLength != defaults.maximumReplyLength {
                fields["max_reply_length"] = number(udp.maximumReplyLength)
            }
        case .dns(let dns):
            fields["query_name"] = text(dns.name.isEmpty ? "." : dns.name)
            fields["query_type"] = text(dns.type.description)
            fields["rcode"] = text(dns.rcode.description)
            fields["require_answer"] = boolean(dns.requireAnswer)
        case .icmp:
            break
        }
        return fields.node
    }

    /// Codes in order, a run of three or more as a range ("200-299"), so
    /// keepalived's default is one entry rather than a hundred.
    static func statusCodes(_ codes: [Int]) -> [Node] {
        var nodes: [Node] = []
        var index = 0
        while index < codes.count {
            var end = index
            while end + 1 < codes.count, codes[end + 1] == codes[end] + 1 { end += 1 }
            if end - index >= 2 {
                nodes.append(Node("\(codes[index])-\(codes[end])", .implicit, .doubleQuoted))
                index = end + 1
            } else {
                nodes.append(number(codes[index]))
                index += 1
            }
        }
        return nodes
    }

    // MARK: Scalars

    /// A string scalar. Plain when YAML would read it back as a string,
    /// double-quoted otherwise (`"yes"`, `"8080"`, `"~"`), so other YAML
    /// tools see the same string ConfigParser does.
    static func text(_ value: String) -> Node {
        let plain = Node(value)
        if Resolver.default.resolveTag(of: plain) == .str { return plain }
        return Node(value, .implicit, .doubleQuoted)
    }

    static func number(_ value: Int) -> Node { Node(String(value)) }

    static func boolean(_ value: Bool) -> Node { Node(value ? "true" : "false") }

    static func duration(_ value: Duration) -> Node { Node(DurationParser.format(value)) }

    static func flowList(_ items: [Node]) -> Node { Node(items, .implicit, .flow) }
}

/// An ordered YAML mapping assembled key by key.
fileprivate struct MappingBuilder {
    private var pairs: [(Node, Node)] = []

    var isEmpty: Bool { pairs.isEmpty }
    var node: Node { Node(pairs) }

    subscript(key: String) -> Node? {
        get { pairs.first { $0.0.string == key }?.1 }
        set {
            pairs.removeAll { $0.0.string == key }
            if let newValue { pairs.append((Node(key), newValue)) }
        }
    }
}
