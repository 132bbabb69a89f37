import Foundation
import PlanWatchModel
import PlanWatchRuntime
import PlanWatchTestSupport
import Testing
import ZeroMQ

/// Growing past one host with ZeroMQ's own machinery: `planwatch proxy` (XSUB/XPUB) as the
/// hub, two daemons that each own some cities by topic subscription, and a province daemon
/// that rolls their city indicators up. Shandong: Jinan 3701, Qingdao 3702, Zibo 3703.
@Suite struct ShardingTests {
    static let districts = ["370302", "370303", "370305", "370102", "370103", "370202", "370203", "370211"]

    static func census(id: String, region: String, school: String, ownership: String, sizes: [Int64]) -> [[UInt8]] {
        let classes = sizes.enumerated().map { i, size -> JSONValue in
            .object(["classId": .string("大\(i + 1)班"), "grade": 1, "size": .integer(size)])
        }
        let body: JSONValue = .object([
            "id": .string(id), "type": "enrolment.census", "source": "xueji", "occurredAt": .string(Fixtures.now),
            "region": .string(region), "schemaVersion": 1,
            "payload": .object([
                "schoolId": .string(school), "level": "preschool", "ownership": .string(ownership), "term": "2026-spring",
                "classes": .array(classes),
            ]),
        ])
        return [Array("enrolment.census.\(region)".utf8), JSONWriter.bytes(body)]
    }

    /// The proxy as a subprocess, ready once it says so.
    final class ProxyProcess {
        let process = Process()
        let frontend = "tcp://127.0.0.1:\(FreePort.next())"
        let backend = "tcp://127.0.0.1:\(FreePort.next())"
        let logPath: String

        init(logPath: String) throws {
            self.logPath = logPath
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
            process.executableURL = URL(fileURLWithPath: Products.path("planwatch"))
            process.arguments = ["proxy", "--frontend", frontend, "--backend", backend]
            process.standardError = log
            process.standardOutput = log
            try process.run()
            guard Wait.until(seconds: 30, { self.log.contains("proxy ready") }) else { throw TestFailure("proxy did not start: \(self.log)") }
        }

        var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

        deinit {
            process.terminate()
            process.waitUntilExit()
        }
    }

    @Test func everyEventIsHandledByExactlyOneShardAndTheProvinceIsTheSumOfItsCities() throws {
        let dir = TemporaryDirectory()
        let proxy = try ProxyProcess(logPath: dir.path + "/proxy.log")
        let bus = ["--ingest-connect", proxy.backend, "--publish-connect", proxy.frontend]
        let zibo = try DaemonProcess(
            journal: dir.path + "/zibo.sqlite", extraArguments: bus + ["--ingest-region", "3703"], logPath: dir.path + "/zibo.log")
        let jinanQingdao = try DaemonProcess(
            journal: dir.path + "/jq.sqlite", extraArguments: bus + ["--ingest-region", "3701", "--ingest-region", "3702"],
            logPath: dir.path + "/jq.log")
        let province = try DaemonProcess(
            journal: dir.path + "/province.sqlite",
            extraArguments: ["--ingest-connect", proxy.backend, "--ingest-topic", "indicator.", "--ingest-indicators"],
            logPath: dir.path + "/province.log")

        let context = ZMQContext()
        let cities = try ZMQSocket(context: context, type: .sub)
        try cities.set(.subscribe("indicator.preschool.public_share."))
        try cities.connect(proxy.backend)
        let provinceOut = try ZMQSocket(context: context, type: .sub)
        try provinceOut.set(.subscribe("indicator.preschool.public_share.370000"))
        try provinceOut.connect(province.publish)
        let producer = try ZMQSocket(context: context, type: .pub)
        try producer.set(.sendHighWaterMark(0))
        try producer.connect(proxy.frontend)

        // Subscriptions travel up through the proxy in the background: resend one census per
        // city (the same id, so the shard records it once) until its city indicator comes back.
        var sent: [String: String] = [:]  // id → region
        var numerator: Int64 = 0
        var denominator: Int64 = 0
        for (i, region) in ["370303", "370102", "370202"].enumerated() {
            let id = "warm-\(region)"
            let message = Self.census(id: id, region: region, school: "\(region)-K900", ownership: "public", sizes: [30])
            sent[id] = region
            numerator += 30
            denominator += 30
            let city = RegionCode(region)!.city.code
            var seen = false
            for _ in 0..<150 where !seen {
                try producer.send(message)
                seen = try cities.receive(within: 0.2) { Published($0)?.topic.hasSuffix(".\(city)") == true } != nil
            }
            #expect(seen, "city \(city) never came back through the proxy (round \(i))")
        }

        for n in 0..<120 {
            let region = Self.districts[n % Self.districts.count]
            let ownership = ["public", "inclusivePrivate", "private"][n % 3]
            let sizes: [Int64] = [Int64(20 + n % 11), Int64(25 + n % 7)]
            let id = "census-\(n)"
            try producer.send(Self.census(id: id, region: region, school: "\(region)-K\(n)", ownership: ownership, sizes: sizes))
            sent[id] = region
            denominator += sizes.reduce(0, +)
            if ownership == "public" { numerator += sizes.reduce(0, +) }
        }

        // The province daemon ends at the sum of the three cities, counts not ratios.
        let total = try provinceOut.receive(within: 120) {
            guard let p = Published($0), case .integer(let num)? = p.body["numerator"], case .integer(let den)? = p.body["denominator"]
            else { return false }
            return num == numerator && den == denominator
        }
        #expect(total != nil, "the province never reached \(numerator)/\(denominator):\n\(province.log)")
        if let total, let p = Published(total) {
            #expect(p.string("scope") == "province")
            #expect(p.string("region") == "370000")
        }

        for daemon in [zibo, jinanQingdao, province] { #expect(try daemon.terminate() == 0) }
        let ziboIds = Set(try JournalInspection.eventCounts(journalPath: dir.path + "/zibo.sqlite").keys.map { String($0.dropFirst("xueji/".count)) })
        let jqIds = Set(try JournalInspection.eventCounts(journalPath: dir.path + "/jq.sqlite").keys.map { String($0.dropFirst("xueji/".count)) })
        #expect(ziboIds.isDisjoint(with: jqIds))
        #expect(ziboIds == Set(sent.filter { $0.value.hasPrefix("3703") }.keys))
        #expect(jqIds == Set(sent.filter { !$0.value.hasPrefix("3703") }.keys))
        #expect(ziboIds.union(jqIds) == Set(sent.keys))
        print("sharding: zibo \(ziboIds.count) events, jinan+qingdao \(jqIds.count), province \(numerator)/\(denominator)")
    }
}
