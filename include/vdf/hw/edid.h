/* SPDX-License-Identifier: MIT */
/*
 * EDID base block (128 bytes): offsets, fields and bits.
 * Source: VESA Enhanced Extended Display Identification Data Standard
 * (E-EDID), Release A, Revision 2 (EDID structure version 1, revision 4),
 * section 3: 3.3 header, 3.4 vendor and product identification, 3.5 version,
 * 3.6 basic display parameters, 3.8 established timings, 3.9 standard
 * timings, 3.10 18-byte descriptors (3.10.2 detailed timing, 3.10.3 display
 * descriptors), 3.11 extension count and checksum.
 *
 * Multi-byte numbers are little-endian except the manufacturer ID, which is
 * big-endian (3.4.1).
 */
#ifndef VDF_HW_EDID_H
#define VDF_HW_EDID_H

#include "vdf/common.h"

#define EDID_BLOCK_SIZE 128u /* the base block and every extension block */

/* Header (3.3): 00 FF FF FF FF FF FF 00 */
#define EDID_HEADER	0x00u
#define EDID_HEADER_LEN 8u

/* Vendor and product identification (3.4) */
#define EDID_MFG_ID	     0x08u   /* 16-bit big-endian, three letters (3.4.1) */
#define EDID_MFG_ID_RESERVED BIT(15) /* 0 */
#define EDID_MFG_ID_LETTER1  GENMASK(14, 10)
#define EDID_MFG_ID_LETTER2  GENMASK(9, 5)
#define EDID_MFG_ID_LETTER3  GENMASK(4, 0)
#define EDID_MFG_LETTER_A    1u /* 00001b = 'A' ... 11010b = 'Z' */
#define EDID_MFG_LETTER_Z    26u
#define EDID_PRODUCT_CODE    0x0au /* 16-bit (3.4.2) */
#define EDID_SERIAL	     0x0cu /* 32-bit; 0 = not used (3.4.3) */
#define EDID_MFG_WEEK	     0x10u /* 1..54; 0xff: the year is a model year (3.4.4) */
#define EDID_MFG_YEAR	     0x11u /* year - 1990 */
#define EDID_MFG_WEEK_MODEL  0xffu
#define EDID_MFG_YEAR_BASE   1990u

/* EDID structure version and revision (3.5): 1 and 4 for EDID 1.4 */
#define EDID_VERSION  0x12u
#define EDID_REVISION 0x13u

/* Basic display parameters and features (3.6) */
#define EDID_VIDEO_INPUT	 0x14u /* 3.6.1 */
#define EDID_VIDEO_INPUT_DIGITAL BIT(7)
#define EDID_MAX_HSIZE_CM	 0x15u	/* 3.6.2: both nonzero = size in cm; */
#define EDID_MAX_VSIZE_CM	 0x16u	/* one zero = an aspect ratio; both zero = unknown */
#define EDID_GAMMA		 0x17u	/* 3.6.3 */
#define EDID_FEATURES		 0x18u	/* 3.6.4 */
#define EDID_FEATURE_CONTINUOUS	 BIT(0) /* continuous frequency */
#define EDID_FEATURE_PREFERRED	 BIT(1) /* the preferred timing is the native format */
#define EDID_FEATURE_SRGB	 BIT(2)

/* Color characteristics (3.7): 10 bytes */
#define EDID_CHROMA	0x19u
#define EDID_CHROMA_LEN 10u

/* Established timings I and II and manufacturer's timings (3.8): one bit per
 * mode, 3 bytes. Only the 1024x768 87 Hz mode is interlaced. */
#define EDID_EST_TIMINGS	 0x23u
#define EDID_EST_TIMINGS_LEN	 3u
#define EDID_EST_I		 0x23u
#define EDID_EST_I_720X400_70	 BIT(7)
#define EDID_EST_I_720X400_88	 BIT(6)
#define EDID_EST_I_640X480_60	 BIT(5)
#define EDID_EST_I_640X480_67	 BIT(4)
#define EDID_EST_I_640X480_72	 BIT(3)
#define EDID_EST_I_640X480_75	 BIT(2)
#define EDID_EST_I_800X600_56	 BIT(1)
#define EDID_EST_I_800X600_60	 BIT(0)
#define EDID_EST_II		 0x24u
#define EDID_EST_II_800X600_72	 BIT(7)
#define EDID_EST_II_800X600_75	 BIT(6)
#define EDID_EST_II_832X624_75	 BIT(5)
#define EDID_EST_II_1024X768_87I BIT(4) /* interlaced */
#define EDID_EST_II_1024X768_60	 BIT(3)
#define EDID_EST_II_1024X768_70	 BIT(2)
#define EDID_EST_II_1024X768_75	 BIT(1)
#define EDID_EST_II_1280X1024_75 BIT(0)
#define EDID_EST_MFG		 0x25u
#define EDID_EST_MFG_1152X870_75 BIT(7)
#define EDID_EST_MFG_RESERVED	 GENMASK(6, 0) /* manufacturer-specified */

/* Standard timings (3.9): 8 entries of 2 bytes. First byte: horizontal
 * active pixels / 8 - 31 (0 is reserved); second byte: aspect ratio and
 * refresh rate - 60. 01h 01h marks an unused entry. */
#define EDID_STD_TIMINGS	    0x26u
#define EDID_STD_TIMING_COUNT	    8u
#define EDID_STD_TIMING_SIZE	    2u
#define EDID_STD_UNUSED		    0x01u /* both bytes */
#define EDID_STD_HACTIVE_OFFSET	    31u
#define EDID_STD_HACTIVE_UNIT	    8u
#define EDID_STD_ASPECT_MASK	    GENMASK(7, 6)
#define EDID_STD_ASPECT_16_10	    0u /* 1:1 before EDID 1.3 */
#define EDID_STD_ASPECT_4_3	    1u
#define EDID_STD_ASPECT_5_4	    2u
#define EDID_STD_ASPECT_16_9	    3u
#define EDID_STD_REFRESH_MASK	    GENMASK(5, 0)
#define EDID_STD_REFRESH_OFFSET	    60u
#define EDID_STD_ASPECT_16_10_SINCE 3u /* revision from which 00b means 16:10 */

/* 18-byte descriptors (3.10): four, at 36h, 48h, 5Ah and 6Ch. The first is
 * the preferred timing mode (3.10.1) and must be a detailed timing. A
 * nonzero pixel clock word makes a detailed timing (3.10.2); otherwise the
 * descriptor is a display descriptor (3.10.3). */
#define EDID_DESC	    0x36u
#define EDID_DESC_SIZE	    18u
#define EDID_DESC_COUNT	    4u
#define EDID_DESC_OFFSET(i) (EDID_DESC + (i)*EDID_DESC_SIZE)

/* Detailed timing descriptor (3.10.2), offsets inside the descriptor. The
 * 12-bit and 10-bit numbers keep their low byte in one byte and their high
 * bits in a shared byte. */
#define EDID_DTD_PIXEL_CLOCK	 0u  /* 16-bit, 10 kHz units; 0 = not a DTD */
#define EDID_DTD_PIXEL_CLOCK_KHZ 10u /* kHz per unit */
#define EDID_DTD_HACTIVE_LO	 2u
#define EDID_DTD_HBLANK_LO	 3u
#define EDID_DTD_H_HI		 4u
#define EDID_DTD_HACTIVE_HI	 GENMASK(7, 4) /* bits 11:8 */
#define EDID_DTD_HBLANK_HI	 GENMASK(3, 0) /* bits 11:8 */
#define EDID_DTD_VACTIVE_LO	 5u
#define EDID_DTD_VBLANK_LO	 6u
#define EDID_DTD_V_HI		 7u
#define EDID_DTD_VACTIVE_HI	 GENMASK(7, 4) /* bits 11:8 */
#define EDID_DTD_VBLANK_HI	 GENMASK(3, 0) /* bits 11:8 */
#define EDID_DTD_HSYNC_OFFSET_LO 8u	       /* front porch, bits 7:0 */
#define EDID_DTD_HSYNC_WIDTH_LO	 9u	       /* bits 7:0 */
#define EDID_DTD_VSYNC_LO	 10u
#define EDID_DTD_VSYNC_OFFSET_LO GENMASK(7, 4) /* bits 3:0 */
#define EDID_DTD_VSYNC_WIDTH_LO	 GENMASK(3, 0) /* bits 3:0 */
#define EDID_DTD_SYNC_HI	 11u
#define EDID_DTD_HSYNC_OFFSET_HI GENMASK(7, 6) /* bits 9:8 */
#define EDID_DTD_HSYNC_WIDTH_HI	 GENMASK(5, 4) /* bits 9:8 */
#define EDID_DTD_VSYNC_OFFSET_HI GENMASK(3, 2) /* bits 5:4 */
#define EDID_DTD_VSYNC_WIDTH_HI	 GENMASK(1, 0) /* bits 5:4 */
#define EDID_DTD_HSIZE_MM_LO	 12u
#define EDID_DTD_VSIZE_MM_LO	 13u
#define EDID_DTD_SIZE_MM_HI	 14u
#define EDID_DTD_HSIZE_MM_HI	 GENMASK(7, 4) /* bits 11:8 */
#define EDID_DTD_VSIZE_MM_HI	 GENMASK(3, 0) /* bits 11:8 */
#define EDID_DTD_HBORDER	 15u
#define EDID_DTD_VBORDER	 16u
#define EDID_DTD_FLAGS		 17u
#define EDID_DTD_FLAG_INTERLACED BIT(7) /* vactive and vblank count one field */
#define EDID_DTD_FLAG_STEREO	 (BIT(6) | BIT(5))
#define EDID_DTD_FLAG_SYNC	 GENMASK(4, 1)
#define EDID_DTD_FLAG_STEREO_IL	 BIT(0) /* with STEREO: interleaved modes */

/* Display descriptors (3.10.3; tags in its table of descriptor types): bytes 0-2 zero, tag at 3,
 * byte 4 zero (range limits: offset flags), 13 data bytes from 5. Strings end with 0Ah and are
 * padded with 20h. */
#define EDID_DISP_TAG		   0x03u
#define EDID_DISP_DATA		   0x05u
#define EDID_DISP_DATA_LEN	   13u
#define EDID_DISP_STR_END	   0x0au
#define EDID_DISP_STR_PAD	   0x20u
#define EDID_TAG_SERIAL		   0xffu /* display product serial number */
#define EDID_TAG_TEXT		   0xfeu /* alphanumeric data string */
#define EDID_TAG_RANGE_LIMITS	   0xfdu /* display range limits */
#define EDID_TAG_NAME		   0xfcu /* display product name */
#define EDID_TAG_COLOR_POINT	   0xfbu
#define EDID_TAG_STD_TIMINGS	   0xfau /* standard timing identifiers */
#define EDID_TAG_DCM		   0xf9u /* color management data */
#define EDID_TAG_CVT_3BYTE	   0xf8u /* CVT 3-byte timing codes */
#define EDID_TAG_EST_TIMINGS3	   0xf7u /* established timings III */
#define EDID_TAG_DUMMY		   0x10u
#define EDID_TAG_MFG_MAX	   0x0fu	  /* 00h-0Fh: manufacturer-specified */
#define EDID_DISP_STD_TIMINGS	   EDID_DISP_DATA /* FAh: 6 standard timings, then 0Ah */
#define EDID_DISP_STD_TIMING_COUNT 6u

/* Extension block count and checksum (3.11): all 128 bytes sum to 0 mod 256. */
#define EDID_EXTENSION_COUNT 0x7eu
#define EDID_CHECKSUM	     0x7fu

static_assert(EDID_VERSION == EDID_MFG_YEAR + 1, "version follows the vendor block");
static_assert(EDID_EST_TIMINGS == EDID_CHROMA + EDID_CHROMA_LEN, "established timings at 23h");
static_assert(EDID_STD_TIMINGS == EDID_EST_TIMINGS + EDID_EST_TIMINGS_LEN,
	      "standard timings at 26h");
static_assert(EDID_DESC == EDID_STD_TIMINGS + EDID_STD_TIMING_COUNT * EDID_STD_TIMING_SIZE,
	      "descriptors at 36h");
static_assert(EDID_DESC_OFFSET(3) == 0x6c, "fourth descriptor at 6Ch");
static_assert(EDID_DESC_OFFSET(EDID_DESC_COUNT) == EDID_EXTENSION_COUNT, "descriptors end at 7Eh");
static_assert(EDID_CHECKSUM == EDID_BLOCK_SIZE - 1, "checksum is the last byte");
static_assert(EDID_DISP_DATA + EDID_DISP_DATA_LEN == EDID_DESC_SIZE,
	      "display descriptor data fills the descriptor");
static_assert(EDID_DISP_STD_TIMINGS + EDID_DISP_STD_TIMING_COUNT * EDID_STD_TIMING_SIZE ==
		  EDID_DESC_SIZE - 1,
	      "FAh descriptor: 6 standard timings and a 0Ah");

#endif
