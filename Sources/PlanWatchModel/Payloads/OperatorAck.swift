/// `operator.ack`: an operator acknowledges a firing alert, taking it on; the alert stops
/// escalating and is published again with `ackedBy`, `ackedAt` and `ackNote`.
///
/// ```json
/// {"fingerprint": "safety.incident/INC-2026-0311", "by": "张店区教育局 王敏", "note": "已派人到校"}
/// ```
/// The event's region is the alert's region. `planwatch ack` and the console send it for
/// operators; another system may publish it too (with CURVE, only keys allowed `operator.`).
public struct OperatorAck: Sendable, Equatable {
    /// The alert's fingerprint.
    public var fingerprint: String
    /// Who acknowledges: a name an auditor can follow up.
    public var by: String
    /// What they are doing about it.
    public var note: String?

    public init(fingerprint: String, by: String, note: String?) {
        self.fingerprint = fingerprint
        self.by = by
        self.note = note
    }

    public init(_ r: FieldReader) throws(Rejection) {
        fingerprint = try r.string("fingerprint", length: 1...512)
        by = try r.string("by", length: 1...64)
        note = try r.optionalString("note", length: 0...1000)
    }

    /// The payload as JSON.
    public var json: JSONValue {
        .object(["fingerprint": .string(fingerprint), "by": .string(by), "note": .optional(note)])
    }
}
