import Mustache

/// Renders zebra.conf, ospfd.conf, (with BFD) bfdd.conf and (with IPv6
/// VIPs) ospf6d.conf from the templates in
/// quagga-templates/ with a real Mustache engine. The templates are handed
/// in as text (the edge reads them), so rendering is pure and testable.
public struct RoutingRenderer: Sendable {
    public struct Templates: Sendable {
        public var zebra: String
        public var ospfd: String
        /// bfdd.conf's template; needed only when a plan has BFD on.
        public var bfdd: String?
        /// ospf6d.conf's template; needed only when a plan has IPv6 VIPs.
        public var ospf6d: String?
        public init(zebra: String, ospfd: String, bfdd: String? = nil, ospf6d: String? = nil) {
            self.zebra = zebra
            self.ospfd = ospfd
            self.bfdd = bfdd
            self.ospf6d = ospf6d
        }
    }

    /// The OSPF message-digest key: the real one for files that get
    /// installed, a placeholder for anything shown to a person.
    public enum AuthenticationKey: Sendable {
        case secret(String)
        case redacted(keyFile: String)
    }

    public struct Output: Sendable, Equatable {
        public var zebra: String
        public var ospfd: String
        /// Nil when BFD is off: no bfdd.conf is installed or reloaded.
        public var bfdd: String?
        /// Nil without IPv6 VIPs: no ospf6d.conf is installed or reloaded.
        public var ospf6d: String?

        public init(zebra: String, ospfd: String, bfdd: String? = nil, ospf6d: String? = nil) {
            self.zebra = zebra
            self.ospfd = ospfd
            self.bfdd = bfdd
            self.ospf6d = ospf6d
        }

        /// Each file by daemon, in the order they are installed and reloaded
        /// (zebra before the daemons that talk to it).
        public var files: [(daemon: String, content: String)] {
            [("zebra", zebra)] + (bfdd.map { [("bfdd", $0)] } ?? []) + [("ospfd", ospfd)]
                + (ospf6d.map { [("ospf6d", $0)] } ?? [])
        }
    }

    private let zebraTemplate: MustacheTemplate
    private let ospfdTemplate: MustacheTemplate
    private let bfddTemplate: MustacheTemplate?
    private let ospf6dTemplate: MustacheTemplate?

    public init(templates: Templates) throws(RenderError) {
        do { zebraTemplate = try MustacheTemplate(string: templates.zebra) } catch {
            throw RenderError(template: "zebra.conf", message: "\(error)")
        }
        do { ospfdTemplate = try MustacheTemplate(string: templates.ospfd) } catch {
            throw RenderError(template: "ospfd.conf", message: "\(error)")
        }
        do { bfddTemplate = try templates.bfdd.map { try MustacheTemplate(string: $0) } } catch {
            throw RenderError(template: "bfdd.conf", message: "\(error)")
        }
        do { ospf6dTemplate = try templates.ospf6d.map { try MustacheTemplate(string: $0) } } catch {
            throw RenderError(template: "ospf6d.conf", message: "\(error)")
        }
    }

    public func render(_ plan: OSPFPlan, key: AuthenticationKey?, version: String, source: String) throws(RenderError)
        -> Output
    {
        let context = Self.context(plan, key: key, version: version, source: source)
        var bfdd: String?
        if plan.bfd != nil {
            guard let bfddTemplate else {
                throw RenderError(template: "bfdd.conf", message: "ospf.bfd is on, but the templates have no bfdd.conf")
            }
            bfdd = bfddTemplate.render(context)
        }
        var ospf6d: String?
        if plan.ospf6 != nil {
            guard let ospf6dTemplate else {
                throw RenderError(
                    template: "ospf6d.conf", message: "the config has IPv6 VIPs, but the templates have no ospf6d.conf")
            }
            ospf6d = ospf6dTemplate.render(context)
        }
        return Output(
            zebra: zebraTemplate.render(context), ospfd: ospfdTemplate.render(context), bfdd: bfdd, ospf6d: ospf6d)
    }

    static func context(_ plan: OSPFPlan, key: AuthenticationKey?, version: String, source: String) -> [String: Any] {
        var authentication: [String: Any]?
        if let keyID = plan.authenticationKeyID, let key {
            switch key {
            case .secret(let text): authentication = ["keyID": keyID, "key": text]
            case .redacted(let file): authentication = ["keyID": keyID, "key": "<redacted: key from \(file)>"]
            }
        }
        var context: [String: Any] = [
            "version": version,
            "source": source,
            "hostname": plan.hostname,
            "routerID": plan.routerID.description,
            "area": plan.area.description,
            "interfaces": plan.interfaces.map { interface -> [String: Any] in
                var entry: [String: Any] = [
                    "name": interface.name, "hello": interface.helloInterval, "dead": interface.deadInterval,
                    "priority": interface.priority, "cost": interface.cost,
                ]
                if let authentication { entry["authentication"] = authentication }
                return entry
            },
            "networks": plan.networks.map(\.description),
            "vips": plan.vips.map(\.description),
            "loopbackCost": plan.loopbackCost,
            "fastConvergence": plan.fastConvergence,
            "maximumPaths": plan.maximumPaths,
        ]
        if let ospf6 = plan.ospf6 {
            context["ospf6"] =
                [
                    "routerID": ospf6.routerID.description, "area": ospf6.area.description,
                    "interfaces": ospf6.interfaces.map { interface -> [String: Any] in
                        [
                            "name": interface.name, "hello": interface.helloInterval, "dead": interface.deadInterval,
                            "priority": interface.priority, "cost": interface.cost,
                        ]
                    },
                    "networks": ospf6.networks.map(\.description), "skipped": ospf6.skipped.map(\.description),
                    "vips": ospf6.vips.map(\.description), "loopbackCost": ospf6.loopbackCost,
                    "fastConvergence": ospf6.fastConvergence, "maximumPaths": ospf6.maximumPaths,
                ] as [String: Any]
            // zebra.conf names every interface either daemon runs on, once.
            let ospfNames = Set(plan.interfaces.map(\.name))
            context["zebraInterfaces"] = (plan.interfaces + ospf6.interfaces.filter { !ospfNames.contains($0.name) })
                .map { ["name": $0.name] as [String: Any] }
        } else {
            context["zebraInterfaces"] = plan.interfaces.map { ["name": $0.name] as [String: Any] }
        }
        if let bfd = plan.bfd {
            context["bfd"] =
                [
                    "profile": BFDSettings.profileName, "receiveInterval": bfd.receiveIntervalMilliseconds,
                    "transmitInterval": bfd.transmitIntervalMilliseconds, "detectMultiplier": bfd.detectMultiplier,
                    "echoMode": bfd.echoMode,
                ] as [String: Any]
        }
        return context
    }
}

public struct RenderError: Error, Sendable, CustomStringConvertible {
    public var template: String
    public var message: String
    public var description: String { "template \(template): \(message)" }
}
