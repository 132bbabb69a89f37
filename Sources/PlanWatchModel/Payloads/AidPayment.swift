/// `aid.payment`: one school's payment of one student-aid programme for one term (学生资助
/// 发放), due by a date; the same `paymentId` again updates it (e.g. once it is paid).
public struct AidPayment: Sendable, Equatable, Codable {
    public static let type = "aid.payment"

    /// 国家助学金, 营养改善计划, 免学费, 寄宿生生活补助.
    public enum Programme: String, Sendable, CaseIterable, Codable { case nationalGrant, nutrition, tuitionWaiver, boardingAllowance }

    public var paymentId: String
    public var programme: Programme
    public var schoolId: String
    public var term: SchoolTerm
    /// The day it must be paid by.
    public var due: LocalDate
    /// Students entitled.
    public var students: Int64
    /// Yuan due.
    public var amountDue: Int64
    /// Students paid so far (default 0).
    public var paidStudents: Int64
    /// Yuan paid so far (default 0).
    public var amountPaid: Int64
    /// The day the (last) payment was made.
    public var paidOn: LocalDate?

    public init(_ r: FieldReader) throws(Rejection) {
        paymentId = try r.string("paymentId", length: 1...128)
        programme = try r.enumeration("programme", Programme.self)
        schoolId = try r.string("schoolId", length: 1...128)
        term = try r.term("term")
        due = try r.date("due")
        students = try r.integer("students", in: 1...1_000_000)
        amountDue = try r.integer("amountDue", in: 0...1_000_000_000_000)
        paidStudents = try r.optionalInteger("paidStudents", in: 0...1_000_000) ?? 0
        amountPaid = try r.optionalInteger("amountPaid", in: 0...1_000_000_000_000) ?? 0
        paidOn = try r.optionalDate("paidOn")
    }

    /// Paid in full (足额): every student and every yuan, on a day reported.
    public var paidInFull: Bool { paidOn != nil && paidStudents >= students && amountPaid >= amountDue }

    /// Paid in full by the due date (按时足额).
    public var paidOnTime: Bool { paidInFull && (paidOn.map { $0 <= due } ?? false) }
}
