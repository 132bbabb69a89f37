import Foundation
import PlanWatchModel
import PlanWatchSimulator
import PlanWatchTestSupport
import PlanWatchWire
import Testing
import ZeroMQ

/// The simulator's school year of Zibo through the daemon, as the README's demo runs it.
@Suite struct SimulatedYearTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Rules the simulated year cannot fire, and why.
    static let outsideTheYear: [String: String] = [
        "teachers.research_staff_below": "judged from 2025 (003 §32: 2024年底前); the year is 2020",
        "ingest.handler_quarantined": "needs a handler that crashes; PoisonTests covers it",
    ]

    @Test func everyDeclaredRuleFiresAndTheYearsVerdictsAreTheOnesItWasBuiltFor() throws {
        let dir = TemporaryDirectory()
        let plugins = dir.path + "/plugins"
        try FileManager.default.createDirectory(atPath: plugins, withIntermediateDirectories: true)
        // The year has the Finance and DigitalInfrastructure plugins' events: loaded as the demo does.
        for plugin in ["libFinancePlugin.so", "libDigitalInfrastructurePlugin.so"] {
            try FileManager.default.copyItem(atPath: Products.path(plugin), toPath: plugins + "/" + plugin)
        }
        let daemon = try DaemonProcess(
            journal: dir.path + "/journal.sqlite",
            extraArguments: [
                "--clock", "event", "--plan", Self.root.appendingPathComponent("Plans/zibo-2020.yaml").path,
                "--plan", Self.root.appendingPathComponent("Plans/city-2023.yaml").path, "--plugin-dir", plugins,
                "--calendar", Self.root.appendingPathComponent("Plans/calendar").path,
            ], logPath: dir.path + "/d.log")
        let peer = Peer()
        let sub = try peer.subscriber(to: daemon.publish, prefixes: ["alert."], probeAck: daemon.ack)
        let dealer = try peer.dealer(to: daemon.ack)
        let events = Simulator(seed: 2026).events()
        #expect(events.count > 10_000)  // a city's year at the plan's scale
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

        // Every rule the loaded handlers declare (the catalog the console reads), but those the
        // year cannot reach.
        let catalog = try JSONParser.parse([UInt8](Data(contentsOf: URL(string: daemon.http + "/api/catalog")!)))
        guard case .object(let c) = catalog, case .array(let declared)? = c["rules"] else { throw TestFailure("no rules in the catalog") }
        let expectedRules = Set(declared.compactMap { if case .object(let r) = $0, case .string(let id)? = r["id"] { id } else { nil } })
            .subtracting(Self.outsideTheYear.keys)
        #expect(expectedRules.count >= 12)
        var fingerprints = Set<String>()
        var rules = Set<String>()
        var levels: [String: Set<String>] = [:]
        var dropoutLevels = Set<String>()
        var reportedResolvedRed = false
        let designed = [
            "projects.milestone_overdue/P-2020-103/toppedOut",  // never reported after it started
            "safety.food_cluster/370303",  // two canteens of Zhangdian
            "projects.target_at_risk/Zibo 2020/projects.completed.kindergarten_built/370300",  // short of 103
            "projects.target_at_risk/Zibo 2020/projects.completed.public_kindergarten_new/370322",  // Gaoqing's third slips
            "finance.spending_decreased/370304/",  // Boshan's per-pupil spending falls
        ]
        _ = try sub.receive(within: 120) { frames in
            guard let p = Published(frames) else { return false }
            fingerprints.insert(p.string("fingerprint") ?? "")
            rules.insert(p.string("rule") ?? "")
            levels[p.string("rule") ?? "", default: []].insert(p.string("level") ?? "")
            if p.string("rule") == "enrolment.dropout_open" { dropoutLevels.insert(p.string("level") ?? "") }
            if p.string("rule") == "safety.incident", p.string("level") == "red", p.string("summary")?.contains("死亡3人") == true {
                reportedResolvedRed = true
            }
            return expectedRules.isSubset(of: rules) && dropoutLevels.isSuperset(of: ["blue", "yellow", "orange"])
                && designed.allSatisfy { d in fingerprints.contains { $0.hasPrefix(d) } } && reportedResolvedRed
                && Self.escalating.allSatisfy { levels[$0]?.contains("orange") == true }
        }
        #expect(rules.isSuperset(of: expectedRules), "missing: \(expectedRules.subtracting(rules))")
        #expect(dropoutLevels == ["blue", "yellow", "orange"])
        for fingerprint in designed { #expect(fingerprints.contains { $0.hasPrefix(fingerprint) }, "\(fingerprint) never fired") }
        #expect(reportedResolvedRed, "the bus crash reported only once resolved (3 deaths) raised no red alert")
        for rule in Self.escalating { #expect(levels[rule]?.contains("orange") == true, "\(rule) never turned orange: \(levels[rule] ?? [])") }

        // The verdicts of record, as the year was built: final after 2020-12-31.
        func verdict(_ series: String, _ region: String) throws -> (status: String?, final: Bool, value: Double?) {
            let update = try HTTPGet.json(daemon.http + "/api/indicators?indicator=\(series)&region=\(region)")
                .first { $0["indicator"] == .string(series) && $0["plan"] == .string("Zibo 2020") }
            guard let update else { throw TestFailure("no Zibo 2020 verdict for \(series) at \(region)") }
            let value: Double? = switch update["value"] { case .integer(let i)?: Double(i); case .double(let d)?: d; default: nil }
            if case .string(let s)? = update["status"] { return (s, update["final"] == .bool(true), value) }
            return (nil, update["final"] == .bool(true), value)
        }
        let expected: [(String, String, String)] = [
            ("projects.completed.kindergarten_built", "370300", "offTrack"),  // 103 wanted; four slip, one stalls
            ("projects.completed.public_kindergarten_new", "370322", "offTrack"),  // 2 of 3
            ("projects.completed.public_kindergarten_new", "370303", "met"),
            ("projects.completed.school_built", "370300", "met"),  // 33 of 34 started
            ("projects.completed.school_renovated", "370300", "met"),
            ("projects.completed.senior", "370300", "offTrack"),  // 24 of 25
            ("projects.completed.vocational", "370300", "met"),  // one late, done by December
            ("compulsory.super_oversized_classes", "370300", "met"),  // every class over 65 split in the autumn
            ("compulsory.oversized_classes", "370300", "offTrack"),  // some 56–65 remain
            ("compulsory.open_dropout_cases", "370300", "offTrack"),  // still out, or withdrawn: cases stay open
        ]
        for (series, region, status) in expected {
            // Final once the daemon's clock has passed the deadline with a tick, which may come
            // after the last event was acknowledged.
            _ = Wait.until(seconds: 60) { (try? verdict(series, region))?.final == true }
            let v = try verdict(series, region)
            #expect(v.status == status && v.final, "\(series) at \(region): \(v)")
        }
        #expect(try verdict("compulsory.oversized_classes", "370300").value ?? 0 > 0)
        #expect(try daemon.terminate() == 0)

        // Replay is deterministic: every handler's state rebuilt in separate processes (each
        // with its own hash seed, so dictionaries iterate in another order) equals the
        // checkpoint, and their outputs are byte for byte the same.
        let journal = dir.path + "/journal.sqlite"
        let settings = [
            "--journal", journal, "--clock", "event", "--plan", Self.root.appendingPathComponent("Plans/zibo-2020.yaml").path,
            "--plan", Self.root.appendingPathComponent("Plans/city-2023.yaml").path, "--plugin-dir", plugins,
            "--calendar", Self.root.appendingPathComponent("Plans/calendar").path,
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

    @Test func theSameSeedGivesTheSameStreamAndEveryEventIsValid() throws {
        let a = Simulator(seed: 7, schoolsPerDistrict: 10, days: 120).events()
        let b = Simulator(seed: 7, schoolsPerDistrict: 10, days: 120).events()
        let c = Simulator(seed: 8, schoolsPerDistrict: 10, days: 120).events()
        #expect(a.map(\.body) == b.map(\.body))
        #expect(a.map(\.body) != c.map(\.body))
        // The smallest stream the CLI allows (60 days, schools stretched to two a district) plays too.
        #expect(!Simulator(seed: 1, schoolsPerDistrict: 1, days: 10).events().isEmpty)
        let regions = Set(City.zibo.districts.map(\.code.code) + [City.zibo.code.code])
        #expect(Set(a.map { String($0.topic.suffix(6)) }).isSubset(of: regions))
        // Valid as the daemon with the Finance plugin sees them (planwatch check).
        let dir = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.path + "/plugins", withIntermediateDirectories: true)
        for plugin in ["libFinancePlugin.so", "libDigitalInfrastructurePlugin.so"] {
            try FileManager.default.copyItem(atPath: Products.path(plugin), toPath: dir.path + "/plugins/" + plugin)
        }
        let lines = a.map { String(decoding: $0.body, as: UTF8.self) }.joined(separator: "\n") + "\n"
        try lines.write(toFile: dir.path + "/year.jsonl", atomically: true, encoding: .utf8)
        let check = try run(Products.path("planwatch"), ["check", "--plugin-dir", dir.path + "/plugins", dir.path + "/year.jsonl"])
        #expect(check.status == 0 && check.stdout.hasSuffix("\(a.count) valid, 0 rejected\n"), "\(check.stdout.suffix(2000))\(check.stderr)")
        // Each source's seq runs 1, 2, 3, … except where the stream loses or resends one.
        var seen: [String: [Int64]] = [:]
        for event in a {
            guard case .object(let o) = try JSONParser.parse(event.body), case .string(let source)? = o["source"], case .integer(let seq)? = o["seq"]
            else { continue }
            seen[source, default: []].append(seq)
        }
        #expect(Set(seen.keys).isSuperset(of: ["anquan", "caizheng", "peixun", "renshi", "xiangmu", "xueji", "dudao", "xinxihua"]))
        // The registry loses one (a gap that stays) and resends one a day late (a gap that closes).
        #expect(seen["xueji"].map { Set($0).count == $0.count && $0.count == Int($0.max()!) - 1 && $0 != $0.sorted() } == true)
        #expect(seen["xiangmu"].map { $0 == $0.sorted() } == true)  // reported late, numbered when sent
    }
}
