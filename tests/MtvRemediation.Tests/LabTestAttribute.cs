using System;
using System.Collections.Generic;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace MtvRemediation.Tests
{
    /// <summary>
    /// A test that needs the running lab (tests/lab/lab.sh) or root. It carries the trait
    /// <c>Layer=Lab</c>: build.ps1 runs it in the Lab layer and leaves it out of the Unit layer. When
    /// the lab or root is missing the test is skipped with the reason, unless <c>MTV_LAB_REQUIRED=1</c>
    /// (set by <c>build.ps1 Test</c>, which started the lab as root): then it fails with the reason,
    /// so a lab that was not found shows as failures instead of a shorter green run.
    /// </summary>
    [TraitDiscoverer("MtvRemediation.Tests.LabLayerTraitDiscoverer", "MtvRemediation.Tests")]
    [XunitTestCaseDiscoverer("MtvRemediation.Tests.LabFactDiscoverer", "MtvRemediation.Tests")]
    public abstract class LabTestAttribute : FactAttribute, ITraitAttribute
    {
        public const string RequiredVariable = "MTV_LAB_REQUIRED";

        /// <param name="unavailableReason">Why the lab cannot be used here, or null when it can.</param>
        protected LabTestAttribute(string? unavailableReason)
        {
            if (unavailableReason == null) return;
            if (Environment.GetEnvironmentVariable(RequiredVariable) == "1")
                RequiredButUnavailable = $"{RequiredVariable}=1 and the lab cannot be used: {unavailableReason}";
            else
                Skip = unavailableReason;
        }

        /// <summary>Set when the lab is required but cannot be used; the test fails with this message.</summary>
        public string? RequiredButUnavailable { get; }
    }

    /// <summary>Needs root, like the ESXi shell it stands in for (it writes into read-only files, e.g. a 0444 crontab).</summary>
    public sealed class RootFactAttribute : LabTestAttribute
    {
        public RootFactAttribute() : base(Environment.IsPrivilegedProcess ? null : "Needs root, like the ESXi shell (it writes into read-only files).") { }
    }

    /// <summary>Gives every <see cref="LabTestAttribute"/> test the trait Layer=Lab.</summary>
    public sealed class LabLayerTraitDiscoverer : ITraitDiscoverer
    {
        public IEnumerable<KeyValuePair<string, string>> GetTraits(IAttributeInfo traitAttribute)
        {
            yield return new KeyValuePair<string, string>("Layer", "Lab");
        }
    }

    /// <summary>A plain fact, or a test case that fails with the reason when the lab is required but unavailable.</summary>
    public sealed class LabFactDiscoverer : FactDiscoverer
    {
        public LabFactDiscoverer(IMessageSink diagnosticMessageSink) : base(diagnosticMessageSink) { }

        protected override IXunitTestCase CreateTestCase(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute)
        {
            var unavailable = factAttribute.GetNamedArgument<string?>(nameof(LabTestAttribute.RequiredButUnavailable));
            return unavailable == null
                ? base.CreateTestCase(discoveryOptions, testMethod, factAttribute)
                : new ExecutionErrorTestCase(DiagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(),
                    discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod, unavailable);
        }
    }
}
