import Foundation
import PlanWatchModel
import PlanWatchWire

/// Events with real region codes, as CONTRACT.md shows them.
public enum Fixtures {
    /// A `safety.incident` body; `overrides` replace top-level or payload fields.
    public static func incident(
        id: String = UUID().uuidString, source: String = "anquan", seq: Int64? = nil, region: String = "370303",
        incidentId: String = "INC-2026-0311", status: String = "reported", affected: Int64 = 35, injured: Int64 = 0,
        deaths: Int64 = 0, category: String = "foodPoisoning", reportedAt: String = Fixtures.now
    ) -> (topic: [UInt8], body: [UInt8]) {
        var envelope: JSONValue = .object([
            "id": .string(id), "type": "safety.incident", "source": .string(source),
            "occurredAt": .string(reportedAt), "region": .string(region), "schemaVersion": 1,
            "payload": .object([
                "incidentId": .string(incidentId), "schoolId": .string("\(region)-0042"), "category": .string(category),
                "status": .string(status), "affected": .integer(affected), "injured": .integer(injured),
                "deaths": .integer(deaths), "reportedAt": .string(reportedAt),
                "resolvedAt": status == "resolved" ? "2026-03-12T09:00:00+08:00" : nil,
                "description": "午餐后多名学生腹痛",
            ]),
        ])
        if let seq, case .object(var o) = envelope {
            o["seq"] = .integer(seq)
            envelope = .object(o)
        }
        return (Array("safety.incident.\(region)".utf8), JSONWriter.bytes(envelope))
    }

    /// Now, in China time, as RFC 3339: for events the daemon's wall clock must not find overdue.
    public static var now: String {
        Timestamp(epochMilliseconds: Int64(Date().timeIntervalSince1970) * 1000).description
    }

    /// Parses a published body (test side).
    public static func object(_ body: [UInt8]) -> JSONObject? {
        guard case .object(let o)? = try? JSONParser.parse(body) else { return nil }
        return o
    }
}
