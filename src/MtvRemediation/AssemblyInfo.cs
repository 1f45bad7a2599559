// Module-wide assembly attributes.
[assembly: System.CLSCompliant(false)]
