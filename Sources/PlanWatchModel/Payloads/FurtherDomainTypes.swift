/// The event types of the further domains (docs/domains.md), each with its payload validator.
/// Their handlers register them (``EventDecoder/extraTypes``); the daemon itself keeps no list
/// of them. This one is for tools that make or check events without the handlers: the
/// simulator's tests, the fuzzer.
public enum FurtherDomainTypes {
    public static let validators: [String: PayloadValidator] = [
        InspectionVisit.type: { (r: FieldReader) throws(Rejection) in _ = try InspectionVisit(r) },
        SafetyHazard.type: { (r: FieldReader) throws(Rejection) in _ = try SafetyHazard(r) },
        SafetyDrill.type: { (r: FieldReader) throws(Rejection) in _ = try SafetyDrill(r) },
        TrainingInspection.type: { (r: FieldReader) throws(Rejection) in _ = try TrainingInspection(r) },
        SpecialPlacement.type: { (r: FieldReader) throws(Rejection) in _ = try SpecialPlacement(r) },
        AidPayment.type: { (r: FieldReader) throws(Rejection) in _ = try AidPayment(r) },
        ClassroomInfrastructure.type: { (r: FieldReader) throws(Rejection) in _ = try ClassroomInfrastructure(r) },
    ]
}
