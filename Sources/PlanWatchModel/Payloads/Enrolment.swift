/// School level, shared by the enrolment payloads.
public enum SchoolLevel: String, Sendable, CaseIterable, Codable {
    case preschool, primary, junior, senior, vocational, special
}

/// Who runs a school: public 公办, inclusive private 普惠性民办, other private.
public enum Ownership: String, Sendable, CaseIterable, Codable {
    case `public`, inclusivePrivate, `private`
}

/// `enrolment.census`: the authoritative class sizes of one school and level at a term's start.
public struct EnrolmentCensus: Sendable, Equatable, Codable {
    public struct ClassCount: Sendable, Equatable, Codable {
        public var classId: String
        public var grade: Int64?
        public var size: Int64
    }

    public var schoolId: String
    public var level: SchoolLevel
    public var ownership: Ownership
    public var term: String
    public var classes: [ClassCount]

    package init(_ r: FieldReader) throws(Rejection) {
        schoolId = try r.string("schoolId", length: 1...128)
        level = try r.enumeration("level", SchoolLevel.self)
        ownership = try r.enumeration("ownership", Ownership.self)
        term = try r.string("term", length: 1...32)
        var classes: [ClassCount] = []
        var seen = Set<String>()
        for (i, element) in try r.array("classes").enumerated() {
            let c = try FieldReader(element, path: "\(r.name("classes"))[\(i)]")
            let classId = try c.string("classId", length: 1...64)
            guard seen.insert(classId).inserted else {
                throw Rejection(.schemaViolation, "\(c.path).classId: \"\(classId)\" appears twice in one census")
            }
            classes.append(
                ClassCount(
                    classId: classId, grade: try c.optionalInteger("grade", in: 0...20),
                    size: try c.integer("size", in: 0...500)))
        }
        self.classes = classes
    }
}

/// `enrolment.change`: pupils moved in or out of a school (and class).
public struct EnrolmentChange: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, CaseIterable, Codable {
        case admitted, transferredIn, returned, withdrawn, transferredOut, graduated, droppedOut
        /// +1 for changes that add pupils, -1 for those that remove them.
        public var sign: Int64 {
            switch self {
            case .admitted, .transferredIn, .returned: 1
            case .withdrawn, .transferredOut, .graduated, .droppedOut: -1
            }
        }
    }

    public var schoolId: String
    public var level: SchoolLevel
    public var ownership: Ownership
    public var classId: String?
    public var change: Kind
    public var count: Int64
    public var studentRef: String?
    /// Why: for a drop-out, e.g. `poverty`; for `withdrawn` or `transferredOut`, a lawful
    /// reason closes a drop-out case: `deceased`, `medicalDeferment` (因身体原因缓学).
    public var reason: String?
    /// For `transferredOut`: the school that receives the pupil (a transfer with a receiving
    /// school closes a drop-out case).
    public var toSchoolId: String?

    package init(_ r: FieldReader) throws(Rejection) {
        schoolId = try r.string("schoolId", length: 1...128)
        level = try r.enumeration("level", SchoolLevel.self)
        ownership = try r.enumeration("ownership", Ownership.self)
        classId = try r.optionalString("classId", length: 1...64)
        change = try r.enumeration("change", Kind.self)
        count = try r.integer("count", in: 1...10_000)
        studentRef = try r.optionalString("studentRef", length: 1...128)
        reason = try r.optionalString("reason", length: 0...256)
        toSchoolId = try r.optionalString("toSchoolId", length: 1...128)
        if (change == .droppedOut || change == .returned) && studentRef == nil {
            throw Rejection(.schemaViolation, "payload.studentRef: required when change is \(change.rawValue)")
        }
    }
}
