using System;

namespace MtvRemediation.VSphere
{
    /// <summary>A vSphere managed object reference: type (e.g. VirtualMachine) and value (e.g. vm-42).</summary>
    internal readonly struct MoRef : IEquatable<MoRef>
    {
        public MoRef(string type, string value)
        {
            Type = type ?? throw new ArgumentNullException(nameof(type));
            Value = value ?? throw new ArgumentNullException(nameof(value));
        }

        public string Type { get; }
        public string Value { get; }

        public bool IsEmpty => Value is null;

        public bool Equals(MoRef other) =>
            string.Equals(Type, other.Type, StringComparison.Ordinal) && string.Equals(Value, other.Value, StringComparison.Ordinal);

        public override bool Equals(object? obj) => obj is MoRef m && Equals(m);

        public override int GetHashCode() => ((Type ?? "").GetHashCode() * 397) ^ (Value ?? "").GetHashCode();

        /// <summary>PowerCLI's Id form, e.g. <c>VirtualMachine-vm-42</c>.</summary>
        public override string ToString() => $"{Type}-{Value}";

        public static bool operator ==(MoRef a, MoRef b) => a.Equals(b);
        public static bool operator !=(MoRef a, MoRef b) => !a.Equals(b);
    }
}
