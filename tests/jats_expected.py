"""Hand-checked expected captions of real corpus figures, grouped by DTD family.

Each string was checked against the article XML under the rules in pmc_pipeline/jats.py:
sup -> ^x, sub -> _x, MathML linearised, supplementary-material and eLife DOI paragraphs
dropped, inline-graphic formulas dropped, label not repeated. A caption longer than
1100 characters is given as (first 120 chars, last 120 chars, length).
"""

from __future__ import annotations

EXPECTED_CAPTIONS: dict[str, dict[str, dict[str, str | tuple[str, str, int]]]] = {
    "NLM 2.3 archiving": {
        "PMC1790863": {
            "pone-0000217-g001": (
                "Fisher's geometric model in two-dimensional phenotypic space. Fitness varies "
                "along two phenotypic axes, with the maximum fitness located, for convenience, "
                "at the origin of these axes. Any individual in a population (black point) can "
                "thus be described by its phenotypic values, which determine the fitness of that "
                "organism. At any specific fitness, there are a number of other phenotypic "
                "combinations that have equivalent fitness; the values of these phenotypic "
                "combinations establish the fitness isoclines (black circle). From the optimum, "
                "fitness declines monotonically according to the structure of the landscape (see "
                "text). Each mutation (arrow) is drawn from a distribution centered on the "
                "phenotypic position of each individual, resulting in offspring with new "
                "phenotypic combinations and fitness values (white point)."
            ),
            "pone-0000217-g002": (
                "Predicted equilibrium fitness as a function of phenotypic complexity (n_e). "
                "Results are shown for populations of size 100 (black), ten (grey), and three "
                "(white). An exponential fitness decline in which Q = 1 was used (yielding a "
                "fitness function of f(d) = exp(−d)). Circles indicate the average fitness "
                "reached in the simulation model; curves indicate the analytical results."
            ),
        },
    },
    "NLM 3.0 archiving": {
        "PMC3062852": {
            "fig0005": "Frequency of transport injury over previous 12 months, by sex and age.",
            "fig0010": "Role when injured, by sex and age.",
        },
    },
    "NLM 3.0 publishing": {
        "pbio.1001315": {
            "pbio-1001315-g002": (
                (
                    "Ganglioside-containing LUV_HIV-tRed traffic to the same compartment as VLP "
                    "_HIV-Gag-eGFP in mDCs. (A) (Top) Fluorescence"
                ),
                (
                    "d Pearson (obtained considering all the images) were 0.752±0.03 and "
                    "0.44±0.11, respectively, indicating co-localization."
                ),
                1970,
            ),
            "pbio-1001315-g003": (
                (
                    "Capture of ganglioside-containing LUV_HIV-tRed by mDCs is independent of "
                    "membrane liquid order. (A) Comparative mDC capt"
                ),
                (
                    "rticles as indicated in the top images. Data show mean values and SEM of "
                    "more than 100 mDCs from three different donors."
                ),
                1408,
            ),
        },
        "pcbi.1004082": {
            "pcbi.1004082.g002": (
                "Linear readout and its interpretation. (A) We study a “standard” model of "
                "percept formation, with two parameters w and t_R defining integration in time, "
                "and a readout vector a defining integration across neurons. (B) Geometric "
                "interpretation of the model. The temporal parameters w and t_R define the "
                "tuning vector b‾ and noise covariance matrix C‾‾ in the population. Colored "
                "ellipses represent the distribution of neural activities from trial to trial, "
                "for the three possible stimulus values. The readout ŝ can be viewed as an "
                "orthogonal projection of neural activities in the direction given by a. (C) "
                "Behavioral part of the model. The percept ŝ can be corrupted by decision noise "
                "ξ_d. Then it is thresholded to produce a binary choice c."
            ),
            "pcbi.1004082.g008": (
                "Discussion. (A) If the extraction time t_R varies strongly from trial to trial "
                "(with density g(t)), it leads to a flattening of CC signals (thick green curve) "
                "compared to the case with deterministic t_R (dashed green curve). (B) If a "
                "choice-related signal feedbacks into sensory areas, it leads to an increase of "
                "CC signals (thick green curve) after the extraction time t_R, compared to the "
                "case without feedback (dashed green curve)."
            ),
        },
        "pone.0091296": {
            "pone-0091296-g001": (
                "Study locations. Papua New Guinea with details (insets) of Ahus Island, Manus "
                "Province, and Karkar Island, Madang Province."
            ),
            "pone-0091296-g002": (
                "Catch rates reported by fishers for the six study species. Data are the "
                "‘normal’ catch rates fishers expect to obtain on a fishing trip, given as mean "
                "no. fish/trip^−1 with standard error bars. For each species, results of t-tests "
                "comparing mean catch rates between locations are shown, with significant "
                "differences indicated by bold font."
            ),
        },
        "pone.0093988": {
            "pone-0093988-g001": (
                "Results from playing the TD and MEC games with human subjects, adapted from "
                "[17]. (a) TD game: individuals make higher claims when the reward/punishment "
                "parameter is low, and make lower claims when is high. (b) MEC game: individuals "
                "expend more effort when the effort cost is low, and less effort when is high."
            ),
            "pone-0093988-g002": (
                "Results from simulating the TD game. (a)(c)(d)(e)(f) Average claims in the "
                "smoothed TD game over the last of generations versus the reward/punishment "
                "parameter for different values of the smoothing parameter , on a complete graph "
                "(a), a random regular graph with degree 10 (c), a scale-free graph with mean "
                "degree 10 (d), 2D lattice graph with 4 neighbors (e), and 2D lattice graph with "
                "8 neighbors (f). Parameter values: for lattice networks and for other networks, "
                ", and . (b) Number of individuals versus their claims , when and , on a "
                "complete graph with parameter values: , and ."
            ),
        },
    },
    "JATS 1.0 archiving": {
        "PMC2599765": {
            "f1-ehp-116-1694": (
                "Exposure to PBDE-47 depressed circulating concentrations of total T_4 in males "
                "and females (A), but had no effect on total T_3 in males (B). *p < 0.05 "
                "compared with control."
            ),
            "f2-ehp-116-1694": (
                "Dietary exposure to PBDE-47 altered relative transcripts levels for TSHβ (A) "
                "and GPHα (B) in the pituitary gland. Transcript levels are expressed relative "
                "to template RNA levels. *p < 0.05 compared with control."
            ),
        },
        "PMC2924383": {
            "pone-0012255-g003": (
                "Points of subjective stationarity. (A) Results measured at 5° right of the "
                "fixation. (B) Results measured at 20° right of the fixation. Positive values "
                "represent the shift of PSS in the direction of the leftward visual motion. Blue "
                "bars represent the results for leftward sound condition, red bars rightward "
                "sound condition, and gray bars no sound condition. Error bar denotes the "
                "standard error of the mean."
            ),
            "pone-0012255-g004": (
                "Points of subjective stationarity measured at 10° left of the fixation. (A) "
                "PSSs before and after adaptation to 1000 ms SOA. (B) PSSs after adaptation to "
                "500 ms SOA. Positive values represent the shift of PSS in the direction of the "
                "leftward visual motion. Blue bars represent the results for leftward sound "
                "condition, red bars rightward sound condition, and gray bars no sound "
                "condition. Error bar denotes the standard error of the mean."
            ),
        },
        "PMC3166277": {
            "F3": (
                "Factors influencing λ lysis time stochasticity. (A) Effect of allelic variation "
                "in holin proteins on mean lysis times (MLTs) and standard deviations (SDs). (B) "
                "Effect of λ's late promoter p_R' activity [50] on MLTs, SDs and CVs "
                "(coefficients of variation). Solid curve is SD = 3.05 (72.73 + P)/P, where P "
                "was the p_R' activity. (C) Effects of p_R' activity and host growth rate on "
                "lysis time stochasticity. The regression line was obtained by fitting all data "
                "points from the late promoter activity (filled diamonds) and lysogen growth "
                "rate (open squares) treatments, except for the datum with the longest MLT and "
                "largest SD (from SYP028 in Table 2). (D) Effect of lysogen growth rate on MLT, "
                "SD, and CV. The fitted solid line shows the relationship between the growth "
                "rate and SD. All data are from Tables 1 and 2. Symbols: open circles, MLT; "
                "close circles, SD; closed triangles, CV."
            ),
            "F4": (
                "Effects of t_KCN (timing of KCN addition). (A) On time delay t_L - t_KCN. The "
                "solid curve shows the quadratic fit of y = 54.52 - 1.09x + 0.02(x - 36.57)^2. "
                "Error bars indicate the associated SDs. As an example, when t_KCN = 45 min, the "
                "observed t_L is 50.11 min, thus the time delay is t_L - t_KCN = 5.11 min. (B) "
                "On lysis time SD (closed circles) and CV (closed triangles). Solid curve shows "
                "the quadratic fit of SD against t_KCN (y = 13.24 - 0.28x + 0.01(x - 36.57)^2)."
            ),
        },
        "PMC3460867": {
            "pone-0046493-g001": (
                "Chemical structure of inhibitors. Chemical structures of A, THL and B, MmPPOX. "
                "The proposed mechanism of action involves the opening of the cycle in each "
                "molecule. Nucleophilic sites attacked by catalytic serine are indicated by an "
                "arrow. Theoretical exact masses were calculated using the online calculator "
                "provided by SIS, Inc. (http://www.sisweb.com/referenc/tools/exactmass.htm)."
            ),
            "pone-0046493-g003": (
                "Protein-inhibitor adducts studies using mass spectrometry. Global mass "
                "modifications of A, LipH; B, LipN and C, LipY after 30 min incubation with "
                "MmPPOX at a molar excess of 20 (x_I = 20). D, PMF spectra of LipN before (top) "
                "and after (bottom) 30 min incubation with MmPPOX at a molar excess of 20 (x_I = "
                "20). Only two parts of interest are shown: left part, area for a catalytic "
                "peptide, containing the unmodified catalytic Serine (m/z, 2001.0); right part, "
                "area expected for the appearance of a new signal for the catalytic peptide "
                "following reaction of the catalytic Serine with MmPPOX (m/z, 2285.0; δ = "
                "+284.0). Note that, for the sake of clarity, different vertical scales were "
                "chosen for the left parts, but identical vertical scales were chosen for the "
                "right parts."
            ),
        },
        "PMC3532326": {
            "F1": (
                "Distribution of SNVs, insertions, and deletions along the C. elegans genome for "
                "Hawaiian isolate CB4856. Segmented rings on the outside represent the six C. "
                "elegans chromosomes. Going from outside to inside, the line plot shows SNV "
                "density (inward pointing peaks = higher density), histograms represent the "
                "density of deletions (also drawn inwards), and the heatmap depicts the density "
                "of insertions (dark red = higher density) detected in the Hawaiian isolate "
                "CB4856. Note the generally higher density of SNVs towards the telomeres and the "
                "presence of chromosome-internal peaks on chromosome IV and V. Data points for "
                "this image were automatically generated by CooVar using the --circos option. "
                "Circos was then used to generate the image. Circos configuration files "
                "necessary to create this type of image are provided with the C. elegans test "
                "data set at http://genome.sfu.ca/projects/coovar/."
            ),
            "F2": (
                "GVs affecting the same protein-coding transcript must be assessed together to "
                "correctly predict their functional impact. Panel A shows an example where two "
                "neighboring frameshift indels (1-bp insertion and 1-bp deletion, indicated by "
                "arrows) cancel each others effect, restoring the original ORF. Panel B shows an "
                "example where an otherwise synonymous SNV (G->A, indicated by arrow) causes a "
                "missense mutation due to the effect of a neighboring SNV (A->G). In both "
                "panels, the first three rows show the reference nucleotide sequence on the "
                "forward strand, the reference nucleotide sequence from the reverse strand, and "
                "the reference protein sequence translation from the annotated ORF. Note that "
                "both ORFs are encoded on the reverse strand, so sequences must be read from "
                "right to left. The track below shows the variant sequence detected in human "
                "individual HG00732-200-37-ASM, with critical GVs highlighted by arrows. The "
                "blue horizontal bar represents the Ensembl protein-coding transcript spanning "
                "this genomic region."
            ),
        },
        "PMC3574550": {
            "MDS526F1": (
                "Deprivation inequalities in advanced stage at diagnosis by cancer (odds ratios "
                "and 95% confidence intervals for diagnosis in stage III/ IV versus I/II)."
            ),
            "MDS526F2": (
                "Age inequalities in advanced stage diagnosis in patients ≥65 by cancer (odds "
                "ratios and 95% confidence intervals for diagnosis in stage III/ IV versus I/II)."
            ),
        },
        "PMC3585041": {
            "pntd-0002065-g001": (
                "Location of the study areas. Figure 1 shows the map of the Zambézia Province, "
                "Mozambique indicating the location of the study areas. In 2007, the collection "
                "points for the baseline study were in 5 districts namely Maganja da Costa, "
                "Mocuba, Mopeia, Morrumbala and Nicoadala (black rectangle). In 2010, the study "
                "was carried out in different locations of the Mopeia (red circle) and in "
                "Nicoadala districts. Three perennial rivers that drain the Mopeia district "
                "namely Zambeze, Cuacua and Chire Rivers are highlighted in blue."
            ),
        },
    },
    "JATS 1.1d1/1.1d3": {
        "elife-00353-v1": {
            "fig1": (
                "This illustration of Eve Marder in her office at Brandeis was drawn by her "
                "nephew Ben Marder."
            ),
        },
        "elife-04953": {
            "fig1s2": (
                "Test of rank-filter based processing method for foci detection. T cells "
                "purified from WT or Was−/− mice were incubated with anti-CD3/ICAM1 "
                "reconstituted lipid bilayers for 2 min and then stained with "
                "Alexa488-phalloidin. WT and WASP−/− cells have comparable levels of total "
                "F-actin at synapse (raw images in left panels), as shown in Figure 1. However, "
                "WASP−/− cells visibly lack F-actin foci. When processed using local background "
                "correction method, the processed images indeed show quantifiably different "
                "numbers of foci."
            ),
            "fig8": (
                "CK666 treatment results in reduced phosphorylation of PLCã1 at the T cell "
                "synapse activated on MHCp. AND CD4 T cell blasts treated with DMSO (Control, "
                "upper panels) or CK666 (lower panels) were incubated with bilayers containing "
                "ICAM1 and MHCp, for 2 min at 37⁰C. Cells were then fixed, immunostained with "
                "anti-phospho-PLCã antibody and Alexa488-phalloidin, and visualized using TIRF "
                "microscopy. The graph shows phosphoPLCã levels at synapse, in control and CK666 "
                "treated cells. n1=47, n2=60, p <0.0001."
            ),
        },
        "elife-19405": {
            "fig1": (
                "Membrane invaginations and cell division. Schematic diagram showing two "
                "neighboring cells in the developing embryo of a sea squirt. (A) Before the "
                "cells divide an invagination forms in the membrane at the rear (posterior) side "
                "of both cells, while a finger-like protrusion forms on the front (anterior) "
                "side of each cell and inserts itself into the invagination of the cell in front "
                "of it. The tip of the invagination is attached to the centrosome by "
                "microtubules. Specifically, the invagination attaches to one of the two "
                "centrioles that make up the centrosome – the same centriole that also grows a "
                "primary cilium. (B) When the cells begin to divide, the "
                "invagination/protrusions and primary cilia have disappeared and the mitotic "
                "spindles are oriented along the anterior-posterior axis. Negishi et al. propose "
                "that the membrane invagination holds the centrosome to orient the spindle."
            ),
        },
        "pone.0178565": {
            "pone.0178565.g001": (
                "Data reduction and construction of Clusters of Co-evolving Genes (CCG). "
                "Diagrammatic representation for clustering of organisms and proteins. The "
                "method is used to reduce the genome dataset and to cluster proteins of the "
                "semi-conserved category to obtain CCG."
            ),
            "pone.0178565.g004": (
                "Histogram of gene conservation index (GCI) for the 23,633 phylogenetic "
                "profiles. The GCI was calculated based on presence and absence of the query "
                "gene in the 73 organism clusters of cyanobacteria."
            ),
        },
    },
    "JATS 1.1 archiving": {
        "elife-30274-v1": {
            "fig2": (
                "Digital gene expression analysis. P493-6 cells grown in the presence of "
                "tetracycline (Tet) for 72 hr for repression of the conditional pmyc-tet "
                "construct, were switched into Tet-free growth medium to induce c-Myc "
                "expression. Cells were cultured in two separate lots of serum. Transcripts/cell "
                "estimates from NanoString nCounter gene expression assays (1369 genes assay) "
                "for active (left) and silent (right) genes at 0, 1, and 24 hr after release "
                "from Tet. Active genes expressed greater than one transcript/cell. Silent genes "
                "expressed less than 0.5 transcript/cell. Box and whisker plots with median "
                "represented as the line through the box and whiskers representing values within "
                "1.5 IQR of the first and third quartile. Cells grown in serum lot one: active "
                "genes = 708, silent genes = 580. Cells grown in serum lot two: active genes = "
                "719, silent genes = 573. Confirmatory analysis is reported in Table 1 and "
                "exploratory statistical analysis is reported in Table 2 and Table 3. Additional "
                "details for this experiment can be found at https://osf.io/fn2y4/."
            ),
            "fig2s1": (
                "Logarithmic expression of genes. This is the same experiment as in Figure 2. "
                "(A–B, E–F) Gene expression data plotted on a log_2 transformed scale for active "
                "(A, E) and silent (B, F) genes at 0, 1, and 24 hr after release from Tet for "
                "both lots of serum. (C–D, G–H) Box and whisker plots showing gene expression "
                "changes (log_2 ratio) between the indicated times for active (C, G) and silent "
                "(D, H) genes. Median represented as the line through the box and whiskers "
                "representing values within 1.5 IQR of the first and third quartile. Additional "
                "details for this experiment can be found at https://osf.io/fn2y4/."
            ),
        },
        "elife-43154-v2": {
            "fig1": (
                "Causal diagram highlighting collider bias in Clarke et al. (2017) and Malaria "
                "Genomic Epidemiology Network et al. (2014). G6PD deficiency is the exposure of "
                "interest (green) and cerebral malaria (CM) is the outcome of interest (red). By "
                "defining the CM cases as those who had coma but no severe anaemia, collider "
                "bias operates on the effect of G6PDd on CM."
            ),
            "respfig1": (
                "Role of sickle cell in case definitions of SMA and CM. Sickle cell mutations "
                "will increase the likelihood of anaemia and are presumed protective against CM."
            ),
        },
        "elife-46472-v3": {
            "fig1": (
                "Knock-in of Taar1^+ converts high MA intake to low MA intake, but does not "
                "impact total volume of fluid consumed. (a) MA consumption and (b) total volume "
                "consumed, when MA was offered vs. water for 18h/day at a concentration of 20 or "
                "40 mg/l for control and knock-in mice. Presented are means (represented by "
                "bars) and individual data points (represented by circles) for data collapsed on "
                "sex. n = 20/genotype tested in a single cohort. Repeated measures ANOVA "
                "followed by simple main effects analysis, ***p<0.001 vs. control "
                "(MAHDR-Taar1^m1J/m1J) at the same MA concentration; +++p < 0.001 vs. control "
                "(MAHDR-Taar1^m1J/m1J) at 20 mg/l MA. Repeated measures ANOVA, ###p<0.001 for "
                "the main effect of 20 mg/l vs. 40 mg/l MA. MA, methamphetamine; MAHDR, MA high "
                "drinking mice; Taar1, trace amine-associated receptor 1 gene; Taar1^+/+, "
                "homozygous for reference Taar1^+ allele; Taar1^m1J/m1J, homozygous for mutant "
                "Taar1^m1J allele. The raw data represented in the graphs are available in "
                "Figure 1—source data 1."
            ),
            "fig8": (
                (
                    "Generation of MAHDR-Taar1^+/+ knock-in and MAHDR-Taar1^m1J/m1J control "
                    "mice, and genotyping of Taar1 and Oprm1. (a) Stra"
                ),
                (
                    "eptor 1 gene; Taar1^+/+, homozygous for reference Taar1^+ allele; "
                    "Taar1^m1J/m1J, homozygous for mutant Taar1^m1J allele."
                ),
                1515,
            ),
        },
        "elife-46793-v1": {
            "fig5": (
                "Identification of cancer-associated genes whose loss promotes sensitivity to G4 "
                "ligands. (A, B) Median log_2FC and number of significantly depleted hairpins "
                "for G4 sensitisers overlapping the COSMIC database for PDS (A) and PhenDC3 (B). "
                "Genes common to both are indicated in blue. See also Supplementary file 1. (C) "
                "Functional interaction network analysis using STRING for the 50 COSMIC proteins "
                "indicated in A and B. Clusters are shown using confidence interactions > 0.4 "
                "from co-expression and experimental data. Box indicates the DDR cluster."
            ),
            "fig10s1": (
                "Circular dichroism spectroscopy for G4 oligonucleotides. Circular dichroism "
                "spectra for G4-forming oligonucleotides (red) and mutated controls (blue) "
                "annealed in 100 mM KCl. G4 structures show a characteristic signature with a "
                "positive peak at 264 nm and negative peak at 241 nm. (A) NRAS 5’UTR RNA G4 and "
                "(B) MYC promoter DNA G4."
            ),
        },
        "elife-52882-v2": {
            "fig2": (
                (
                    "Contrast-driven phototaxis as a biased random walk. N=47 fish, 18, 322 "
                    "bouts, mean of 13 trajectories per fish. All stat"
                ),
                (
                    "(M) Probability of switching direction p_flip as a function of the "
                    "contrast, in situations of conflict or reinforcement."
                ),
                2188,
            ),
            "fig3s1": (
                "Variance of δθ as a function of three different illumination parameters. "
                "Testing klinotaxis with spatially uniform illumination (orientational profiles "
                "unif 1–3). Change in variance of δθ at bout n for two different parameters : "
                "absolute intensity I_n, absolute change in intensity δI_n=I_n-I_(n-1) and "
                "relative change in intensity δI/I=2(I_n-I_(n-1))/(I_n+I_(n-1))."
            ),
            "fig4s1": (
                "Inter-bout distance distribution. Probability distribution function of the "
                "distance between two successive bouts. Fit : gamma distribution."
            ),
        },
    },
    "JATS 1.2 archiving": {
        "PMC3671108": {
            "Fig2": (
                (
                    "Co-regulation of miR153 and Ia-2β expression. (a) Quantitative PCR analysis "
                    "of miR-153 mRNA expression in wild-type (WT)"
                ),
                (
                    "eriments (a–e) were performed in triplicate and significance determined by "
                    "Mann–Whitney U test, *p < 0.05 and **p < 0.01"
                ),
                1451,
            ),
            "Fig5": (
                "Luciferase reporter analysis of predicted miR-153 targets. Luciferase and "
                "Renilla luciferase constructs were transfected into SH-SY5Y cells with the "
                "miR-153 (black bars) or SCR (grey bars) oligonucleotides at a final "
                "concentration of 50 nmol/l. Wild-type or seed mutant SNCA, BSN and PCLO 3′ UTR "
                "construct signals (see ESM Fig. 4, luciferase activity normalised to Renilla) "
                "are shown as a percentage of the signal in control cells transfected with SCR. "
                "Error bars represent SEM; n > 3 independent triplicate experiments. "
                "Significance was determined using Mann–Whitney U test, *p < 0.05"
            ),
        },
    },
    "JATS 1.3 archiving": {
        "PMC10335194": {
            "fig1": (
                (
                    "Study design, inclusion and exclusion criteria and World Health "
                    "Organization (WHO) pulmonary hypertension (PH) groups. E"
                ),
                (
                    " or more cardiac risk factors for left heart disease as outlined by the "
                    "World Society of Pulmonary Hypertension (n = 9)."
                ),
                1401,
            ),
            "fig2": (
                "Echocardiographic and catheterization data for pregnant women with pulmonary "
                "hypertension (PH) by World Health Organization (WHO) PH group. (A) Right "
                "ventricular systolic pressure (RVSP) was highest in Group 1 PH (p < 0.01). (B) "
                "Left ventricular ejection fraction (LVEF) was similar between WHO PH subgroups "
                "(p = 0.12). Catheterization data was available for 26 (37%) with (C) mean "
                "pulmonary artery pressure (PAP) and (D) pulmonary capillary wedge pressure "
                "(PCWP) or left ventricular end diastolic pressure (LVEDP) presented for each "
                "WHO PH group. mmHg indicates millimeters of mercury. *Indicates p ≤ 0.05."
            ),
        },
        "PMC11471772": {
            "Fig1": (
                (
                    "Microglial physical contact with Nodes of Ranvier (NR) in the normal spinal "
                    "cord. a Schematic of in vivo imaging of mous"
                ),
                (
                    "(d). Figures (a, b, h) created using BioRender (https://biorender.com/). "
                    "Source data are provided as a Source Data file."
                ),
                1829,
            ),
            "Fig3": (
                (
                    "Acute axonal degeneration in the absence of microglia-node interaction. a "
                    "An in vivo spinal cord image shows significant"
                ),
                (
                    "red axons at 0 and 24 hpi. A total of 6 axons from 5 mice were recorded. "
                    "Source data are provided as a Source Data file."
                ),
                1548,
            ),
        },
        "PMC11631191": {
            "msae231-F2": (
                (
                    "Analysis of the signal contained in MalDH sequences. The dots on a)–d) "
                    "represent MalDH sequences from the studied Methan"
                ),
                (
                    " values of EstOGT_MalDH are provided in supplementary fig. S2 and table S2, "
                    "Supplementary Material online, respectively."
                ),
                2719,
            ),
            "msae231-F10": (
                "Effect of high irradiation doses on LMCA/A35 MalDH. a) CD spectra taken before "
                "(open triangles) and after irradiation at 7,200 Gy (gray triangles) and 10,500 "
                "Gy (dark triangles). b) CD spectra after adding thermal treatment and "
                "acidification to samples used in A. 0 Gy (open circles), 7,200 Gy (gray "
                "circles),10,500 Gy (dark circles), and 10,500 Gy + HCl (red circles)."
            ),
        },
    },
}

# Authors per corpus article, checked against each <article-meta> <contrib-group>: (number
# of authors, first author, last author). Editors, senior editors and reviewers are not
# authors; a <collab> counts once, by its own name, without the members nested in it.
EXPECTED_AUTHORS: dict[str, tuple[int, str, str]] = {
    "PMC10335194": (9, "William H. Marshall V", "Saurabh Rajpal"),  # "Marshall V" is a surname
    "PMC11471772": (7, "Wanjie Wu", "Jianan Y. Qu"),
    "PMC11631191": (8, "Dominique Madern", "Céline Brochier-Armanet"),
    "PMC1790863": (4, "Olivier Tenaillon", "Lin Chao"),
    "PMC2329613": (4, "Marylee J van der Meulen", "Frank Lobbezoo"),
    "PMC2599765": (4, "Sean C. Lema", "Penny Swanson"),
    "PMC2924383": (3, "Wataru Teramoto", "Yoichi Sugita"),
    "PMC2994229": (46, "K K Tsilidis", "E Riboli"),
    "PMC3062852": (8, "Karen Stephan", "The Thai Cohort Study Team"),
    "PMC3166277": (2, "John J Dennehy", "Ing-Nang Wang"),
    "PMC3460867": (9, "Vincent Delorme", "Stéphane Canaan"),
    "PMC3532326": (3, "Ismael A Vergara", "Nansheng Chen"),
    "PMC3574550": (7, "G. Lyratzopoulos", "D. C. Greenberg"),
    "PMC3585041": (6, "José Fafetine", "J. A. W. Coetzer"),
    "PMC3671108": (11, "W. Mandemakers", "B. De Strooper"),
    "elife-00353-v1": (1, "Eve Marder", "Eve Marder"),
    "elife-04953": (11, "Sudha Kumari", "Michael L Dustin"),
    "elife-19405": (1, "Yukiko M Yamashita", "Yukiko M Yamashita"),
    "elife-30274-v1": (7, "L Michelle Lewis", "Reproducibility Project: Cancer Biology"),
    "elife-43154-v2": (6, "James A Watson", "Nicholas J White"),
    "elife-46472-v3": (10, "Alexandra M Stafford", "Tamara J Phillips"),
    "elife-46793-v1": (9, "Katherine G Zyner", "Shankar Balasubramanian"),
    "elife-52882-v2": (8, "Sophia Karpenko", "Georges Debrégeas"),
    "pbio.1001315": (11, "Nuria Izquierdo-Useros", "Javier Martinez-Picado"),
    "pcbi.1004082": (2, "Adrien Wohrer", "Christian K. Machens"),
    "pone.0091296": (3, "Jan Robinson", "Nicholas A. J. Graham"),
    "pone.0093988": (3, "Swami Iyer", "Timothy Killingback"),
    "pone.0178565": (2, "Gopi Siva Sai Tiruveedula", "Pramod P. Wangikar"),
}
