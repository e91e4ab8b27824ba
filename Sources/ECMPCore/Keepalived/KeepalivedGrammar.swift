/// keepalived's keywords, block by block, as keepalived 2.2.7 installs them
/// (keepalived/check/check_parser.c, check_api.c, check_http.c, check_misc.c
/// and the vrrp and global parsers), and what the importer does with each.
///
/// Keywords are case-sensitive in keepalived (`strcmp`): `Virtual_server`
/// is an unknown keyword there, and its whole block is lost. The importer
/// therefore reports a keyword that matches a known one only in case as an
/// error, with the right spelling.
struct KeepalivedGrammar {
    /// The block's name, for messages.
    let block: String
    /// Keywords the importer translates.
    let handled: Set<String>
    /// Keywords keepalived knows here that ecmpd has no counterpart for, and
    /// what that means for the imported config.
    let ignored: [String: String]

    var known: Set<String> { handled.union(ignored.keys) }

    /// The keyword of this block, or a removed one, that `word` spells in
    /// another case.
    func caseVariant(of word: String) -> String? {
        let lowered = word.lowercased()
        return known.union(Self.removed.keys).sorted().first { $0.lowercased() == lowered && $0 != word }
    }
}

extension KeepalivedGrammar {
    static let noMail = "ecmpd sends no mail; state changes go to its history and metrics"
    static let noSNMP = "ecmpd has no SNMP agent"
    static let noWarmup =
        "ecmpd starts checking at once (keepalived's warmup delays the first check by up to that long)"
    static let noAlpha =
        "keepalived's alpha mode (servers start as failed until a check passes) is not carried over; ecmpd's check state machine decides from the first results"
    static let unsupportedChecker =
        "not supported by ecmpd, which has tcp, http, https, exec, udp, dns and icmp checks; this check is dropped"

    static let root = KeepalivedGrammar(
        block: "the top level",
        handled: [
            "virtual_server", "virtual_server_group", "vrrp_instance", "vrrp_sync_group", "vrrp_script",
            "vrrp_track_file", "vrrp_track_process",
        ],
        ignored: [
            "global_defs":
                "global settings (router_id, notification mail, script user, LVS sync daemon) have no counterpart in ecmpd's config; skipped",
            "static_ipaddress":
                "addresses keepalived adds at start are not ecmpd's business (it manages only the VIPs on lo); keep them in the system's network configuration; skipped",
            "static_routes":
                "routes keepalived adds at start are not ecmpd's business; keep them in the system's network configuration; skipped",
            "static_rules":
                "routing rules keepalived adds at start are not ecmpd's business; keep them in the system's network configuration; skipped",
            "SSL":
                "client certificate and CA for SSL_GET are not supported; ecmpd's https checks connect without a client certificate; skipped",
            "bfd_instance": "BFD is not part of ecmpd; skipped",
            "garp_group": "gratuitous ARP belongs to VRRP, which OSPF ECMP replaces; skipped",
            "track_file": "tracked files belong to VRRP priorities, which OSPF ECMP replaces; skipped",
            "track_group": "tracking groups belong to VRRP, which OSPF ECMP replaces; skipped",
            "linkbeat_interfaces": "link polling belongs to VRRP, which OSPF ECMP replaces; skipped",
            "linkbeat_use_polling": "link polling belongs to VRRP, which OSPF ECMP replaces; skipped",
            "net_namespace": "ecmpd works in the network namespace it is started in; skipped",
            "net_namespace_ipvs": "ecmpd programs IPVS in the network namespace it is started in; skipped",
            "namespace_with_ipsets": "ecmpd works in the network namespace it is started in; skipped",
            "instance": "keepalived instance names have no counterpart in ecmpd; skipped",
            "use_pid_dir": "keepalived process settings have no counterpart in ecmpd; skipped",
            "child_wait_time": "keepalived process settings have no counterpart in ecmpd; skipped",
            "interface_up_down_delays": "interface delays belong to VRRP, which OSPF ECMP replaces; skipped",
        ]
    )

    static let virtualServer = KeepalivedGrammar(
        block: "virtual_server",
        handled: [
            "delay_loop", "lb_algo", "lvs_sched", "lb_kind", "lvs_method", "persistence_timeout",
            "persistence_granularity", "protocol", "ha_suspend", "quorum", "hysteresis", "sorry_server",
            "inhibit_on_failure", "real_server", "connect_timeout", "retry", "delay_before_retry", "weight",
            "virtualhost", "ip_family", "ops", "sh-port", "sh-fallback", "mh-port", "mh-fallback", "flag-1",
            "flag-2", "flag-3",
        ],
        ignored: [
            "warmup": noWarmup,
            "alpha": noAlpha,
            "omega":
                "ecmpd runs no quorum_down script and keeps the IPVS service when it stops, so omega has nothing to act on",
            "quorum_up": "ecmpd runs no scripts when the quorum changes; it withdraws and announces the VIP instead",
            "quorum_down": "ecmpd runs no scripts when the quorum changes; it withdraws and announces the VIP instead",
            "smtp_alert": noMail,
            "snmp_name": noSNMP,
            "persistence_engine": "IPVS persistence engines (sip) are not supported; plain persistence is kept",
            "sorry_server_inhibit": "ecmpd adds the sorry server with weight 1 and does not inhibit it",
            "sorry_server_lvs_method": "ecmpd forwards to the sorry server with the service's forwarding method",
            "hashed": "the kernel marks every service hashed by itself; nothing to carry over",
        ]
    )

    static let realServer = KeepalivedGrammar(
        block: "real_server",
        handled: [
            "weight", "inhibit_on_failure", "lvs_method", "retry", "delay_before_retry", "connect_timeout",
            "delay_loop", "virtualhost", "TCP_CHECK", "HTTP_GET", "SSL_GET", "MISC_CHECK", "UDP_CHECK", "DNS_CHECK",
            "PING_CHECK",
        ],
        ignored: [
            "uthreshold": "IPVS connection thresholds (upper) are not supported",
            "lthreshold": "IPVS connection thresholds (lower) are not supported",
            "notify_up": "ecmpd runs no notify scripts; state changes go to its history and metrics",
            "notify_down": "ecmpd runs no notify scripts; state changes go to its history and metrics",
            "alpha": noAlpha,
            "warmup": noWarmup,
            "smtp_alert": noMail,
            "snmp_name": noSNMP,
            "SMTP_CHECK": unsupportedChecker,
            "FILE_CHECK": unsupportedChecker,
            "BFD_CHECK": unsupportedChecker,
        ]
    )

    /// Keywords every checker block accepts (check_api.c,
    /// `install_checker_common_keywords`), connection keywords included.
    static let checkerIgnored: [String: String] = [
        "connect_ip": "ecmpd checks the real server's own address; a different check address is not supported",
        "bindto": "ecmpd does not bind checks to a source address",
        "bind_port": "ecmpd does not bind checks to a source port",
        "bind_if": "ecmpd does not bind checks to an interface",
        "fwmark": "ecmpd does not mark check packets",
        "warmup": noWarmup,
        "alpha": noAlpha,
        "log_all_failures": "ecmpd logs every state change and records it in its history",
    ]
    static let checkerHandled: Set<String> = [
        "connect_port", "connect_timeout", "retry", "delay_before_retry", "delay_loop",
    ]

    static let tcpCheck = KeepalivedGrammar(block: "TCP_CHECK", handled: checkerHandled, ignored: checkerIgnored)

    /// check_udp.c: a hex payload, and a reply only with `require_reply`.
    static let udpCheck = KeepalivedGrammar(
        block: "UDP_CHECK",
        handled: checkerHandled.union(["payload", "require_reply", "min_reply_length", "max_reply_length"]),
        ignored: checkerIgnored)

    /// check_dns.c: one question, `type` (SOA by default) and `name` (the root).
    static let dnsCheck = KeepalivedGrammar(
        block: "DNS_CHECK", handled: checkerHandled.union(["type", "name"]), ignored: checkerIgnored)

    /// check_ping.c: echo requests, nothing of its own.
    static let pingCheck = KeepalivedGrammar(block: "PING_CHECK", handled: checkerHandled, ignored: checkerIgnored)

    static func httpCheck(_ name: String) -> KeepalivedGrammar {
        KeepalivedGrammar(
            block: name,
            handled: checkerHandled.union(["nb_get_retry", "virtualhost", "url"]),
            ignored: checkerIgnored.merging([
                "http_protocol": "ecmpd chooses the HTTP version of its requests itself",
                "enable_sni": "ecmpd's https check decides on SNI itself",
                "fast_recovery":
                    "ecmpd marks a server up after `rise` good checks; keepalived's fast recovery is not carried over",
            ]) { first, _ in first }
        )
    }

    static let url = KeepalivedGrammar(
        block: "url",
        handled: ["path", "digest", "status_code", "virtualhost"],
        ignored: [
            "regex": "ecmpd checks the status code and digest only; body regexes are not supported",
            "regex_no_match": "ecmpd checks the status code and digest only; body regexes are not supported",
            "regex_options": "ecmpd checks the status code and digest only; body regexes are not supported",
            "regex_min_offset": "ecmpd checks the status code and digest only; body regexes are not supported",
            "regex_max_offset": "ecmpd checks the status code and digest only; body regexes are not supported",
            "regex_stack": "ecmpd checks the status code and digest only; body regexes are not supported",
        ]
    )

    static let miscCheck = KeepalivedGrammar(
        block: "MISC_CHECK",
        handled: ["misc_path", "misc_timeout", "misc_dynamic", "retry", "delay_before_retry", "delay_loop"],
        ignored: [
            "user": "ecmpd runs exec checks as its own user; the user to run the script as is not carried over",
            "warmup": noWarmup,
            "alpha": noAlpha,
            "log_all_failures": "ecmpd logs every state change and records it in its history",
        ]
    )

    /// Keywords keepalived no longer knows, and what became of them.
    static let removed: [String: String] = [
        "nat_mask":
            "keepalived no longer knows nat_mask (removed in 1.2.20; it only ever applied to Linux 2.2 masquerading) and ignores it; ignored"
    ]

    /// Every keyword keepalived 2.2.7 knows, at any level, for telling a
    /// wrongly capitalised keyword inside a skipped block (`Router_id` in
    /// `global_defs`) from a value.
    static let allKeywords: Set<String> = [
        "BFD_CHECK", "DNS_CHECK", "FILE_CHECK", "HTTP_GET", "MISC_CHECK", "PING_CHECK", "SMTP_CHECK", "SSL",
        "SSL_GET", "TCP_CHECK", "UDP_CHECK", "accept", "advert_int", "alpha", "auth_pass", "auth_type",
        "authentication", "bfd_cpu_affinity", "bfd_instance", "bfd_no_swap", "bfd_priority", "bfd_process_name",
        "bfd_rlimit_rtime", "bfd_rlimit_rttime", "bfd_rt_priority", "bind_if", "bind_port", "bindto", "ca",
        "certificate", "check_unicast_src", "checker", "checker_cpu_affinity", "checker_log_all_failures",
        "checker_no_swap", "checker_priority", "checker_process_name", "checker_rlimit_rtime",
        "checker_rlimit_rttime", "checker_rt_priority", "child_wait_time", "config_save_dir", "connect_ip",
        "connect_port", "connect_timeout", "data_use_instance", "dbus_service_name", "debug", "default_interface",
        "delay", "delay_before_retry", "delay_loop", "digest", "disable_local_igmp", "dont_track_primary",
        "down_timer_adverts", "dynamic_interfaces", "enable_dbus", "enable_script_security", "enable_sni",
        "enable_snmp_checker", "enable_snmp_keepalived", "enable_snmp_rfc", "enable_snmp_rfcv2",
        "enable_snmp_rfcv3", "enable_snmp_vrrp", "enable_traps", "fall", "fast_recovery",
        "fifo_write_vrrp_states_on_reload", "file", "flag-1", "flag-2", "flag-3", "fork_delay", "full_command",
        "fwmark", "garp_extra_if", "garp_group", "garp_interval", "garp_lower_prio_delay", "garp_lower_prio_repeat",
        "garp_master_delay", "garp_master_refresh", "garp_master_refresh_repeat", "garp_master_repeat",
        "global_defs", "global_tracking", "gna_interval", "group", "ha_suspend", "hashed", "helo_name",
        "higher_prio_send_advert", "hoplimit", "host", "http_protocol", "hysteresis", "idle_tx", "include_check",
        "inhibit_on_failure", "init_fail", "init_file", "instance", "interface", "interface_up_down_delays",
        "interfaces", "interval", "ip_family", "kernel_rx_buf_size", "key", "lb_algo", "lb_kind",
        "linkbeat_interfaces", "linkbeat_use_polling", "log_all_failures", "log_unknown_vrids",
        "lower_prio_no_advert", "lthreshold", "lvs_flush", "lvs_flush_on_stop", "lvs_flush_onstop", "lvs_method",
        "lvs_netlink_cmd_rcv_bufs", "lvs_netlink_cmd_rcv_bufs_force", "lvs_netlink_monitor_rcv_bufs",
        "lvs_netlink_monitor_rcv_bufs_force", "lvs_notify_fifo", "lvs_notify_fifo_script", "lvs_process_name",
        "lvs_sched", "lvs_sync_daemon", "lvs_sync_daemon_interface", "lvs_timeouts", "max_auto_priority",
        "max_hops", "max_reply_length", "mcast_dst_ip", "mcast_src_ip", "mh-fallback", "mh-port",
        "min_auto_priority_delay", "min_reply_length", "min_rx", "min_tx", "misc_dynamic", "misc_path",
        "misc_timeout", "multiplier", "name", "namespace_with_ipsets", "native_ipv6", "nb_get_retry", "neighbor_ip",
        "neighbour_ip", "net_namespace", "net_namespace_ipvs", "nftables", "nftables_counters", "nftables_ifindex",
        "nftables_ipvs", "nftables_ipvs_priority", "nftables_ipvs_start_fwmark", "nftables_priority", "no_accept",
        "no_checker_emails", "no_email_faults", "nopreempt", "notification_email", "notification_email_from",
        "notify", "notify_backup", "notify_deleted", "notify_down", "notify_fault", "notify_fifo",
        "notify_fifo_script", "notify_master", "notify_master_rx_lower_pri", "notify_priority_changes",
        "notify_stop", "notify_up", "old_unicast_checksum", "omega", "ops", "param_match", "passive", "password",
        "path", "payload", "persistence_engine", "persistence_granularity", "persistence_timeout", "preempt",
        "preempt_delay", "priority", "process", "process_monitor_rcv_bufs", "process_monitor_rcv_bufs_force",
        "process_name", "process_names", "promote_secondaries", "protocol", "quorum", "quorum_down", "quorum_max",
        "quorum_up", "random_seed", "real_server", "regex", "regex_max_offset", "regex_min_offset",
        "regex_no_match", "regex_options", "regex_stack", "reload_check_config", "reload_file", "reload_repeat",
        "reload_time_file", "require_reply", "retry", "rise", "router_id", "rs_init_notifies", "script",
        "script_user", "sh-fallback", "sh-port", "shutdown_script", "shutdown_script_timeout",
        "skip_check_adv_addr", "smtp_alert", "smtp_alert_checker", "smtp_alert_vrrp", "smtp_connect_timeout",
        "smtp_helo_name", "smtp_server", "snmp_name", "snmp_socket", "sorry_server", "sorry_server_inhibit",
        "sorry_server_lvs_method", "source_ip", "startup_script", "startup_script_timeout", "state",
        "static_ipaddress", "static_routes", "static_rules", "status_code", "strict_mode",
        "sync_group_tracking_weight", "terminate_delay", "timeout", "tmp_config_directory", "track_bfd",
        "track_file", "track_group", "track_interface", "track_process", "track_script", "track_src_ip", "ttl",
        "type", "umask", "unicast_fault_no_peer", "unicast_peer", "unicast_src_ip", "unicast_ttl", "url",
        "use_ipvlan", "use_pid_dir", "use_vmac", "use_vmac_addr", "user", "uthreshold", "version",
        "virtual_ipaddress", "virtual_ipaddress_excluded", "virtual_router_id", "virtual_routes", "virtual_rules",
        "virtual_server", "virtual_server_group", "virtualhost", "vmac_addr_prefix", "vmac_garp_intvl",
        "vmac_prefix", "vmac_xmit_base", "vrf", "vrrp", "vrrp_check_unicast_src", "vrrp_cpu_affinity",
        "vrrp_down_timer_adverts", "vrrp_garp_extra_if", "vrrp_garp_interval", "vrrp_garp_lower_prio_delay",
        "vrrp_garp_lower_prio_repeat", "vrrp_garp_master_delay", "vrrp_garp_master_refresh",
        "vrrp_garp_master_refresh_repeat", "vrrp_garp_master_repeat", "vrrp_gna_interval",
        "vrrp_higher_prio_send_advert", "vrrp_instance", "vrrp_ipsets", "vrrp_iptables",
        "vrrp_lower_prio_no_advert", "vrrp_mcast_group4", "vrrp_mcast_group6", "vrrp_min_garp",
        "vrrp_netlink_cmd_rcv_bufs", "vrrp_netlink_cmd_rcv_bufs_force", "vrrp_netlink_monitor_rcv_bufs",
        "vrrp_netlink_monitor_rcv_bufs_force", "vrrp_no_swap", "vrrp_notify_fifo", "vrrp_notify_fifo_script",
        "vrrp_notify_priority_changes", "vrrp_priority", "vrrp_process_name", "vrrp_rlimit_rtime",
        "vrrp_rlimit_rttime", "vrrp_rt_priority", "vrrp_rx_bufs_multiplier", "vrrp_rx_bufs_policy", "vrrp_script",
        "vrrp_skip_check_adv_addr", "vrrp_startup_delay", "vrrp_strict", "vrrp_sync_group", "vrrp_track_file",
        "vrrp_track_process", "vrrp_version", "vrrp_vmac_garp_intvl", "warmup", "weight",
    ]

    /// Whether `word` is a keyword keepalived knows (at some level, or
    /// once knew): safe to show and to copy into the generated YAML.
    static func isKeyword(_ word: String) -> Bool {
        allKeywords.contains(word) || removed[word] != nil || word == "include"
    }

    /// Keywords whose arguments are secrets: never shown as a value, on
    /// stderr or in the generated YAML (VRRP's password; the SSL block's
    /// key passphrase).
    static let secretArguments: Set<String> = ["auth_pass", "password"]

    /// Whether a statement can start a line of a keepalived config: a
    /// keyword in any case (a misspelt one is reported as such), or an
    /// address as `virtual_server_group` entries start with. A file whose
    /// first statements are none of these is something else.
    static func isPlausibleStatement(_ word: String) -> Bool {
        if isKeyword(word) || allKeywordsByLowercase[word.lowercased()] != nil { return true }
        let address = word.prefix { $0 != "/" && $0 != "-" }
        return IPv4Address(String(address)) != nil || (word.contains(":") && IPAddress(String(address)) != nil)
    }

    /// `allKeywords` by lower-case spelling.
    static let allKeywordsByLowercase: [String: String] = Dictionary(
        allKeywords.sorted().map { ($0.lowercased(), $0) }, uniquingKeysWith: { first, _ in first }
    )
}
