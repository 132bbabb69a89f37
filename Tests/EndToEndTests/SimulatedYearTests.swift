import Foundation
import PlanWatchModel
import PlanWatchSimulator
import PlanWatchTestSupport
import Testing
import ZeroMQ

/// The simulator's school year of Zibo through the daemon, as the README's demo runs it.
@Suite struct SimulatedYearTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func everyRuleOfEveryFamilyFiresAndTheDesignedCasesAreThere() throws {
        let dir = TemporaryDirectory()
        // The simulated year has the DigitalInfrastructure plugin's events: loaded as the demo does.
        let plugins = dir.path + "/plugins"
        try FileManager.default.createDirectory(atPath: plugins, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: Products.path("libDigitalInfrastructurePlugin.so"), toPath: plugins + "/libDigitalInfrastructurePlugin.so")
        let daemon = try DaemonProcess(
            journal: dir.path + "/journal.sqlite",
            extraArguments: [
                "--clock", "event", "--plan", Self.root.appendingPathComponent("Plans/zibo-2020.yaml").path,
                "--plan", Self.root.appendingPathComponent("Plans/city-2023.yaml").path, "--plugin-dir", plugins,
            ], logPath: dir.path + "/d.log")
        let peer = Peer()
        let sub = try peer.subscriber(to: daemon.publish, prefixes: ["alert."], probeAck: daemon.ack)
        let dealer = try peer.dealer(to: daemon.ack)
        let events = Simulator(seed: 2026).events()
        for event in events {
            // Pipelined: replies are read below; the daemon answers each once it is journaled.
            try dealer.send([Array(event.topic.utf8), event.body])
        }
        var statuses: [String: Int] = [:]
        var replies = 0
        while replies < events.count, let reply = try dealer.receive(within: 60) {
            statuses[String(decoding: reply[0], as: UTF8.self), default: 0] += 1
            replies += 1
        }
        #expect(statuses == ["ok": events.count])

        var fingerprints = Set<String>()
        var rules = Set<String>()
        let expectedRules: Set<String> = [
            "enrolment.oversized_class", "enrolment.dropout_open", "enrolment.share_below_target",
            "projects.milestone_overdue", "projects.target_at_risk", "safety.incident", "safety.incident_overdue",
            "safety.repeat_school", "safety.food_cluster",
            // The further domains (docs/domains.md), the plugin's included.
            "inspection.rectification_overdue", "safety.hazard_overdue", "safety.drill_missing", "training.violation_overdue",
            "special.unplaced", "aid.payment_late", "infra.bandwidth_below", "infra.terminals_short",
        ]
        var levels: [String: Set<String>] = [:]
        var dropoutLevels = Set<String>()
        _ = try sub.receive(within: 120) { frames in
            guard let p = Published(frames) else { return false }
            fingerprints.insert(p.string("fingerprint") ?? "")
            rules.insert(p.string("rule") ?? "")
            levels[p.string("rule") ?? "", default: []].insert(p.string("level") ?? "")
            if p.string("rule") == "enrolment.dropout_open" { dropoutLevels.insert(p.string("level") ?? "") }
            return expectedRules.isSubset(of: rules) && dropoutLevels.isSuperset(of: ["blue", "yellow", "orange"])
                && fingerprints.contains("projects.milestone_overdue/P-2020-103/toppedOut")
                && fingerprints.contains("safety.food_cluster/370303")
                && Self.escalating.allSatisfy { levels[$0]?.contains("orange") == true }
        }
        #expect(rules.isSuperset(of: expectedRules), "missing: \(expectedRules.subtracting(rules))")
        #expect(dropoutLevels == ["blue", "yellow", "orange"])
        #expect(fingerprints.contains("projects.milestone_overdue/P-2020-103/toppedOut"))  // never reported after it started
        #expect(fingerprints.contains("safety.food_cluster/370303"))  // two canteens of Zhangdian
        for rule in Self.escalating { #expect(levels[rule]?.contains("orange") == true, "\(rule) never turned orange: \(levels[rule] ?? [])") }
        #expect(try daemon.terminate() == 0)

        // Replay is deterministic: every handler's state rebuilt in separate processes (each
        // with its own hash seed, so dictionaries iterate in another order) equals the
        // checkpoint, and their outputs are byte for byte the same.
        let journal = dir.path + "/journal.sqlite"
        let settings = [
            "--journal", journal, "--clock", "event", "--plan", Self.root.appendingPathComponent("Plans/zibo-2020.yaml").path,
            "--plan", Self.root.appendingPathComponent("Plans/city-2023.yaml").path, "--plugin-dir", plugins,
        ]
        for _ in 0..<4 {
            let verify = try run(Products.path("planwatch"), ["replay", "--verify"] + settings)
            #expect(verify.status == 0 && verify.stdout.hasPrefix("verified"), "\(verify.stdout)\(verify.stderr)")
        }
        let first = try run(Products.path("planwatch"), ["replay"] + settings).stdout
        #expect(!first.isEmpty)
        #expect(try run(Products.path("planwatch"), ["replay"] + settings).stdout == first)
    }

    /// The further domains' rules whose cases the simulator leaves open long enough to turn orange.
    static let escalating = [
        "inspection.rectification_overdue", "safety.hazard_overdue", "training.violation_overdue", "special.unplaced", "aid.payment_late",
        "infra.bandwidth_below",
    ]

    @Test func theSameSeedGivesTheSameStream() {
        let a = Simulator(seed: 7, schoolsPerDistrict: 10, days: 120).events()
        let b = Simulator(seed: 7, schoolsPerDistrict: 10, days: 120).events()
        let c = Simulator(seed: 8, schoolsPerDistrict: 10, days: 120).events()
        #expect(a.map(\.body) == b.map(\.body))
        #expect(a.map(\.body) != c.map(\.body))
        let decoder = EventDecoder(extraTypes: FurtherDomainTypes.validators)
        #expect(a.allSatisfy { (try? decoder.decode(topic: Array($0.topic.utf8), body: $0.body).get()) != nil })
        #expect(Set(a.map { String($0.topic.suffix(6)) }).isSubset(of: Set(City.zibo.districts.map(\.code.code))))
    }
}
